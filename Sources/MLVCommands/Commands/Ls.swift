// `mlv ls`: the files of tracked data at a revision.
import ArgumentParser
import MLVCore

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
            Out.line("\(String(repeating: " ", count: width - size.count))\(size)  \(f.type == .symlink ? "l" : (f.executable ? "x" : "-"))  \(f.path)")
        }
    }
}
