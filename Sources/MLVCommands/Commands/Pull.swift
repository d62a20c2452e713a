// `mlv pull`: fetch, then check out the current pointers.
import ArgumentParser
import MLVCore

struct Pull: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fetch what the current pointers need, then make the data match them.",
        discussion: """
        In a fresh `git clone`, `mlv pull` alone brings the data, from the remote named in \
        the committed mlv.yaml.

        Examples:
          git clone URL && cd repo && mlv pull
          mlv pull -- data/train.csv       # only this target
        """)
    @OptionGroup var repo: RepoOptions
    @Flag(name: .shortAndLong, help: "Overwrite uncommitted data (saved into the store first).") var force = false
    @Flag(help: "Print the result as JSON: {\"fetch\": what fetch --json prints, \"checkout\": what checkout --json prints}.") var json = false
    @OptionGroup var output: QuietOption
    @Argument(help: "The remote (default: the default remote).") var remote: String?
    @Argument(parsing: .postTerminator, help: "After --: only these targets.") var paths: [String] = []

    func run() throws {
        output.apply()
        let ws = try repo.open()
        let fetched = try MLVCore.Fetch(ws).run(remote: remote, revs: [], paths: paths)
        if !json { try TransferText.render(fetched, verb: "fetched", json: false) }
        let r = try MLVCore.Checkout(ws).run(rev: nil, paths: paths, force: force, snapshot: nil, waiting: waitingNotice)
        if json {
            struct Both: Encodable { let fetch: TransferResult; let checkout: CheckoutResult }
            try Out.json(Both(fetch: fetched, checkout: r))
            return
        }
        CheckoutText.render(r, quiet: output.quiet)
    }
}
