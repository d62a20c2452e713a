// The JSON form of a diff report (`--format json`): the report's fields, then the gates.
import MLVCore

extension DiffRender {
    static func json(_ report: DiffReport, _ gates: [GateResult]) throws -> String {
        struct Document: Encodable {
            let report: DiffReport
            let gates: [GateResult]
            enum CodingKeys: String, CodingKey { case from, to, targets, metrics, params, gates }
            func encode(to e: any Encoder) throws {
                var c = e.container(keyedBy: CodingKeys.self)
                try c.encode(report.from, forKey: .from); try c.encode(report.to, forKey: .to)
                try c.encode(report.targets, forKey: .targets); try c.encode(report.metrics, forKey: .metrics)
                try c.encode(report.params, forKey: .params); try c.encode(gates, forKey: .gates)
            }
        }
        return try Out.jsonText(Document(report: report, gates: gates)) + "\n"
    }
}
