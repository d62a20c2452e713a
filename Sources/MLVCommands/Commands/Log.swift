// `mlv log`: the history of tracked data across git commits.
import ArgumentParser
import MLVCore

struct Log: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the history of tracked data across git commits.",
        discussion: """
        Lists the commits that changed a target's pointer, newest first, each with the \
        targets it changed: snapshot id, size, file count and, for tables, rows × columns. \
        Without PATH, every target's changes. JSON: one object per commit, its targets in \
        `changes`.

        Examples:
          mlv log data/train.csv
          mlv log -n 5
          mlv log --json models/
        """)

    @OptionGroup var repo: RepoOptions
    @Option(name: .shortAndLong, help: "Show at most this many commits.") var n: Int?
    @Flag(help: "Print the result as JSON.") var json = false
    @Flag(help: ArgumentHelp(Pager.noPagerHelp))
    var noPager = false
    @Argument(help: "A tracked target (default: all).") var path: String?

    func run() throws {
        var skipped: [String] = []
        let entries = try History(repo.open()).log(path: path, limit: n, skipped: &skipped)
        for s in skipped { Out.err("warning: skipped \(s)") }
        if json { try Out.json(entries); return }
        if entries.isEmpty { Out.line("no history yet\(path.map { " for \($0)" } ?? "")"); return }
        Pager.show(LogText.render(entries), allowed: !noPager)
    }
}
