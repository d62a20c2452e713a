// `mlv metrics show|diff`: metric values at a revision, and their changes.
import ArgumentParser
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
            print(try MetricValuesText.render(try DiffEngine(ws).metricValues(at: revision), format: format, revision: revision), terminator: "")
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
