// `mlv diff-driver`: git's textconv driver for pointer files.
import ArgumentParser
import MLVCore

struct DiffDriver: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff-driver",
        abstract: "Summarize a pointer file's data for `git diff` (a textconv driver).",
        discussion: """
        `mlv init` registers it, so plain `git diff` and `git log -p` show what changed in the \
        data (columns, counts, statistics, files) instead of two snapshot ids:
          git config diff.mlv.textconv "mlv diff-driver"   # in .git/config
          *.mlv diff=mlv                                    # in .gitattributes
        """)

    @OptionGroup var repo: RepoOptions
    @OptionGroup var fetching: FetchOptions
    @Argument(help: "A pointer file (git passes a temporary copy).") var file: String

    func run() throws {
        let bytes = try FS.readAll(file)
        print(DiffDriverText.render(try Summarize(repo.open()).run(pointerBytes: bytes, name: file, offline: fetching.offline)), terminator: "")
    }
}
