// `mlv untrack`: stop tracking data files or folders.
import ArgumentParser
import MLVCore

struct Untrack: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Stop tracking data files or folders.",
        discussion: """
        Removes the pointer file and the .gitignore entry. The data stays in the working tree \
        (git now sees it as an untracked file) and in the store, and earlier commits still \
        bring it back.

        Example:
          mlv untrack data/old.csv
        """)

    @OptionGroup var repo: RepoOptions
    @Flag(help: "Print the result as JSON.") var json = false
    @OptionGroup var output: QuietOption
    @Argument(help: "Tracked files or folders.") var paths: [String]

    func validate() throws {
        if paths.isEmpty { throw ValidationError("name at least one tracked path, e.g. `mlv untrack data/old.csv`") }
    }

    func run() throws {
        output.apply()
        let untracked = try MLVCore.Track(repo.open()).untrack(paths)
        if json {
            struct R: Encodable { let path: String }
            try Out.json(untracked.map { R(path: $0) })
            return
        }
        for p in untracked { Out.line("no longer tracking \(p)") }
    }
}
