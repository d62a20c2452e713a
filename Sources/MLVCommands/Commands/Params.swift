// `mlv params diff`: params' changes between revisions.
import ArgumentParser
import MLVCore

struct Params: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Compare params.", subcommands: [DiffParams.self])

    struct DiffParams: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "diff", abstract: "Compare params between revisions (same gates as mlv diff).",
            discussion: """
            Params files are those tracked with `mlv track --kind params` and every FILE a \
            stage reads with --params FILE:KEY; every key in them is compared.

            Example:
              mlv params diff HEAD~1 HEAD
            """)
        @OptionGroup var repo: RepoOptions
        @OptionGroup var gate: DiffGateOptions
        @OptionGroup var fetching: FetchOptions
        @Argument(help: "Up to two revisions.") var revisions: [String] = []

        func validate() throws { if revisions.count > 2 { throw ValidationError("at most two revisions") } }

        func run() throws { try diffOnly(.params, repo: repo, gate: gate, fetching: fetching, revisions: revisions) }
    }
}
