// `mlv metrics show|diff`: metric values at a revision, and their changes.
import ArgumentParser
import Foundation
import MLVCore

struct Metrics: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show or compare metrics.", subcommands: [Show.self, DiffMetrics.self])

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show metric values at a revision (default: the working tree).",
            discussion: "Examples:\n  mlv metrics show\n  mlv metrics show HEAD~1 --format json")
        @OptionGroup var repo: RepoOptions
        @Option(help: "Output format: text, md, json, html.") var format: DiffFormat = .text
        @OptionGroup var fetching: FetchOptions
        @Argument(help: "A revision.") var revision: String?

        func run() throws {
            let ws = try repo.open()
            try fetching.fetch(ws, revs: [revision], kinds: [.metrics])
            let shown = try ws.metricValues(at: revision)
            // Every format prints a value as its file wrote it; JSON keeps numbers numbers
            // (NaN and the infinities: the strings "NaN", "Infinity", "-Infinity").
            let values = shown.map { ($0.file, $0.key, $0.new?.description ?? "") }
            switch format {
            case .json:
                struct V: Encodable { let file, key: String; let value: MetricValue? }
                try Out.json(shown.map { V(file: $0.file, key: $0.key, value: $0.new) })
            case .md:
                func cell(_ s: String) -> String { s.replacingOccurrences(of: "|", with: "\\|") }
                print("| file | metric | value |\n|---|---|---:|")
                for v in values { print("| \(cell(v.0)) | \(cell(v.1)) | \(cell(v.2)) |") }
            case .html:
                let label = revision ?? "the working tree"
                print(DiffRender.page("mlv metrics at \(label)", "<h1>Metrics at <code>\(DiffRender.esc(label))</code></h1>" +
                                      DiffRender.table(["file", "metric", "value"], values.map { [$0.0, $0.1, $0.2] })), terminator: "")
            case .text:
                let w = values.map(\.1.count).max() ?? 0
                for v in values { print("\(v.0)  \(pad(v.1, w))  \(v.2)") }
            }
        }
    }

    struct DiffMetrics: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "diff", abstract: "Compare metrics between revisions (same gates as mlv diff).",
            discussion: "Examples:\n  mlv metrics diff\n  mlv metrics diff main HEAD --fail-on 'rel(loss) > 0.05'")
        @OptionGroup var repo: RepoOptions
        @OptionGroup var gate: DiffGateOptions
        @OptionGroup var fetching: FetchOptions
        @Argument(help: "Up to two revisions.") var revisions: [String] = []

        func validate() throws { if revisions.count > 2 { throw ValidationError("at most two revisions") } }

        func run() throws { try diffOnly(.metrics, repo: repo, gate: gate, fetching: fetching, revisions: revisions) }
    }
}
