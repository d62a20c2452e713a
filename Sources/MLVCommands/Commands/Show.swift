// `mlv show`: a tracked file's content at a revision, on stdout.
import ArgumentParser
import MLVCore

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
