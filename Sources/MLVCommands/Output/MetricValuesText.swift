// `mlv metrics show` in each format: one value per metric, as its file wrote it.
import Foundation
import MLVCore

enum MetricValuesText {
    /// The whole output, ending in a newline (HTML: the page as `DiffRender.page` gives it).
    static func render(_ shown: [MetricChange], format: DiffFormat, revision: String?) throws -> String {
        // Every format prints a value as its file wrote it; JSON keeps numbers numbers
        // (NaN and the infinities: the strings "NaN", "Infinity", "-Infinity").
        let values = shown.map { ($0.file, $0.key, $0.new?.description ?? "") }
        switch format {
        case .json:
            struct V: Encodable { let file, key: String; let value: MetricValue? }
            return try Out.jsonText(shown.map { V(file: $0.file, key: $0.key, value: $0.new) }) + "\n"
        case .md:
            func cell(_ s: String) -> String { s.replacingOccurrences(of: "|", with: "\\|") }
            return "| file | metric | value |\n|---|---|---:|\n" + values.map { "| \(cell($0.0)) | \(cell($0.1)) | \(cell($0.2)) |\n" }.joined()
        case .html:
            let label = revision ?? "the working tree"
            return DiffRender.page("mlv metrics at \(label)", "<h1>Metrics at <code>\(DiffRender.esc(label))</code></h1>" +
                                   DiffRender.table(["file", "metric", "value"], values.map { [$0.0, $0.1, $0.2] }))
        case .text:
            let w = values.map(\.1.count).max() ?? 0
            return values.map { "\($0.0)  \(pad($0.1, w))  \($0.2)\n" }.joined()
        }
    }
}
