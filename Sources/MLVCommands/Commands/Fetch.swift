// `mlv fetch`: download what the pointers need from a remote.
import ArgumentParser
import MLVCore

struct Fetch: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Download the data the pointers need (every object verified before use).",
        discussion: """
        Examples:
          mlv fetch
          mlv fetch origin --rev v1.0
          mlv fetch -- data/train.csv      # only this target
        """)
    @OptionGroup var repo: RepoOptions
    @Option(help: "Fetch what these revisions pin (repeatable; default HEAD and the working tree).") var rev: [String] = []
    @Flag(help: "Print as JSON.") var json = false
    @OptionGroup var output: QuietOption
    @Argument(help: "The remote (default: the default remote).") var remote: String?
    @Argument(parsing: .postTerminator, help: "After --: only these targets.") var paths: [String] = []

    func run() throws { output.apply(); try TransferText.render(try MLVCore.Fetch(repo.open()).run(remote: remote, revs: rev, paths: paths), verb: "fetched", json: json) }
}
