// `mlv hooks install`: the git hooks that keep data in sync.
import ArgumentParser
import MLVCore

struct Hooks: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage the git hooks that keep data in sync.",
        subcommands: [Install.self])

    struct Install: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Install post-checkout, post-merge and post-rewrite hooks.",
            discussion: """
            After `git checkout`, `git switch`, `git pull` or `git rebase` the hooks run \
            `mlv checkout`, which brings tracked data in line with the new pointers. Uncommitted \
            data is never overwritten by a hook: it warns instead.

            Example:
              mlv hooks install
            """)
        @OptionGroup var repo: RepoOptions
        @Flag(help: "Replace hooks that mlv did not write.") var force = false
        @Flag(help: "Print the result as JSON.") var json = false
        @OptionGroup var output: QuietOption

        func run() throws {
            output.apply()
            let hooks = try MLVCore.Hooks(repo.open()).install(force: force)
            if json {
                struct R: Encodable { let hooks: [String] }
                try Out.json(R(hooks: hooks))
                return
            }
            for h in hooks { Out.line("installed \(h)") }
        }
    }
}
