import MLVSystem
import ArgumentParser
import MLVCore
import MLVStore

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
    @Argument(help: "A tracked target (default: all).") var path: String?

    func run() throws {
        var skipped: [String] = []
        let entries = try History(repo.open()).log(path: path, limit: n, skipped: &skipped)
        for s in skipped { Out.err("warning: skipped \(s)") }
        if json { try Out.json(entries); return }
        if entries.isEmpty { Out.line("no history yet\(path.map { " for \($0)" } ?? "")"); return }
        for e in entries {
            Out.line("commit \(e.commit)")
            Out.line("Author: \(e.author)")
            Out.line("Date:   \(e.date)")
            Out.line("    \(e.message)")
            for c in e.changes {
                var line = "    \(c.change) \(c.path) (\(c.kind.rawValue))"
                if let s = c.snapshot {
                    line += ": snapshot \(s.prefix(12)), \(bytes(c.size))"
                    if c.files != 1 { line += ", \(grouped(c.files)) files" }
                    if let r = c.rows, let col = c.columns { line += ", \(grouped(r)) \(noun(r, "row")) × \(counted(col, "column"))" }
                }
                Out.line(line)
            }
            Out.line()
        }
    }
}

struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a tracked file's content at a revision to standard output.",
        discussion: """
        Streams the file from the store without checking anything out. PATH is a file \
        target or a file inside a tracked folder; REV defaults to HEAD. Data this clone \
        lacks (that file's, not its folder's) is fetched from the default remote first, \
        verified; --offline forbids that.

        Examples:
          mlv show HEAD~3:data/train.csv | head
          mlv show v1.0:data/images/cat/001.png > old.png
        """)

    @OptionGroup var repo: RepoOptions
    @OptionGroup var fetching: FetchOptions
    @Argument(help: "REV:PATH, or PATH for HEAD.") var spec: String

    func run() throws {
        let (rev, path) = splitSpec(spec)
        guard let path, !path.isEmpty else { throw ValidationError("name a file: mlv show REV:PATH") }
        let ws = try repo.open()
        try fetching.fetch(showing: ws, rev: rev, path: path)
        try History(ws).show(rev: rev, path: path, to: 1)
    }
}

struct Ls: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ls",
        abstract: "List the files of tracked data at a revision.",
        discussion: """
        One line per file: its size, its mode (- a file, x an executable file, l a \
        symbolic link) and its path. Folders' trees this clone lacks are fetched from the \
        default remote first (their files' data is not needed); --offline forbids that.

        Examples:
          mlv ls                       # every target at HEAD
          mlv ls HEAD~1:data/images    # one folder at an older commit
          mlv ls --json v1.0
        """)

    @OptionGroup var repo: RepoOptions
    @Flag(help: "Print the result as JSON.") var json = false
    @OptionGroup var fetching: FetchOptions
    @Argument(help: "REV[:PATH].") var spec: String = "HEAD"

    func run() throws {
        let ws = try repo.open()
        var (rev, path) = splitSpec(spec)
        // `mlv ls v1.0`: a word that names a revision is one, dots or not.
        if !spec.contains(":"), path != nil, (try? ws.resolve(spec)) != nil { (rev, path) = (spec, nil) }
        // Listing reads folders' trees, never file contents: only those are fetched.
        try fetching.fetch(ws, revs: [rev], paths: path.map { [$0] } ?? [], pathsFromRoot: true, treesOnly: true)
        let files = try History(ws).list(rev: rev, path: path)
        if json { try Out.json(files); return }
        let width = files.map { bytes($0.size).count }.max() ?? 0
        for f in files {
            let size = bytes(f.size)
            Out.line("\(String(repeating: " ", count: width - size.count))\(size)  \(f.type == "symlink" ? "l" : (f.executable ? "x" : "-"))  \(f.path)")
        }
    }
}

/// "REV:PATH" → (REV, PATH); "PATH" → ("HEAD", PATH); "REV" (ls) → (REV, nil).
func splitSpec(_ s: String) -> (String, String?) {
    if let i = s.firstIndex(of: ":") {
        let rev = String(s[..<i])
        return (rev.isEmpty ? "HEAD" : rev, String(s[s.index(after: i)...]))
    }
    return s.contains("/") || s.contains(".") ? ("HEAD", s) : (s, nil)
}
