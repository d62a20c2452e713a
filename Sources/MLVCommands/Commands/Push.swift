// `mlv push`: upload what the pointers need to a remote.
import ArgumentParser
import MLVCore

struct Push: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Upload the data the pointers need that the remote lacks.",
        discussion: """
        Sends whole packs holding the objects the pointers need (at HEAD and in the working \
        tree, or at --rev), and one index for them; a pack the remote has is not sent again.

        Examples:
          mlv push
          mlv push backup --rev v1.0
          mlv push --all-commits
        """)
    @OptionGroup var repo: RepoOptions
    @Option(help: "Push what these revisions pin (repeatable).") var rev: [String] = []
    @Flag(help: "Push what every commit reachable from HEAD pins.") var allCommits = false
    @Flag(help: "Print as JSON.") var json = false
    @OptionGroup var output: QuietOption
    @Argument(help: "The remote (default: the default remote).") var remote: String?

    func run() throws { output.apply(); try TransferText.render(try MLVCore.Push(repo.open()).run(remote: remote, revs: rev, allCommits: allCommits), verb: "pushed", json: json) }
}
