// `mlv repro` for people: what each stage did (up to date, restored, ran), and with --verify
// whether each re-run reproduced its record, with the outputs and metrics that differ.
import Foundation
import MLVCore

enum ReproText {
    static func steps(_ steps: [ReproStep]) {
        for s in steps {
            switch s.action {
            case .skipped: Out.line("\(s.stage): up to date")
            case .restored: Out.line("\(s.stage): restored from \(s.reason)")
            default: Out.line("\(s.stage): ran in \(String(format: "%.2f", s.record?.durationSeconds ?? 0)) s (\(s.reason))")
            }
        }
    }

    static func verified(_ results: [VerifyResult]) {
        for r in results {
            Out.line("\(r.stage): \(r.ok ? "reproduced" : "DIFFERS from its record")")
            for o in r.outputs where !o.same {
                Out.line("  ~ \(o.path): recorded \(o.recorded.map { String($0.prefix(12)) } ?? "—"), reproduced \(o.reproduced.map { String($0.prefix(12)) } ?? "—")")
            }
            for m in r.metrics {
                Out.line("  metric \(m.key)\(m.file == r.stage ? "" : " (\(m.file))"): \(m.old?.description ?? "—") → \(m.new?.description ?? "—")" + (m.delta.map { " (\(formatNumber($0)))" } ?? ""))
            }
        }
    }
}
