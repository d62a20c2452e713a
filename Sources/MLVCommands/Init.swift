import ArgumentParser
import MLVCore

struct Init: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Set up mlv in a git repository.",
        discussion: """
        Creates the local store (.mlv/, ignored by git), the committed config mlv.yaml, and \
        registers git's merge driver and `git diff` textconv driver for pointer files (so plain \
        `git diff` shows what changed in the data). Hooks and drivers call `mlv` from PATH. \
        Safe to run again: it also rewrites hooks and drivers an older mlv registered by the \
        absolute path of its binary. A fresh clone of a repository that already uses mlv needs \
        no `mlv init`: any command sets it up.

        Examples:
          mlv init                 # in an existing git repository
          mlv init --git           # create the git repository too
          mlv init --hooks         # also keep data in sync on git checkout/switch/pull
        """)

    @OptionGroup var repo: RepoOptions
    @Flag(help: "Create a git repository here if there is none.") var git = false
    @Flag(help: "Install git hooks that run `mlv checkout` after git checkout, switch, pull and rebase.") var hooks = false
    @Flag(help: "Print the result as JSON.") var json = false
    @OptionGroup var output: QuietOption

    func run() throws {
        output.apply()
        let (ws, created, repaired) = try Workspace.initialize(cwd: repo.cwd(), createGit: git)
        var hookFiles: [String] = []
        if hooks { hookFiles = try MLVCore.Hooks(ws).install(force: false) }
        if json {
            struct R: Encodable { let root: String; let created: [String]; let repaired: [String]; let hooks: [String] }
            try Out.json(R(root: ws.root, created: created, repaired: repaired, hooks: hookFiles))
            return
        }
        if created.isEmpty { Out.line("mlv is already set up in \(ws.root)") }
        else { Out.line("Initialized mlv in \(ws.root): created \(created.joined(separator: ", "))") }
        if !repaired.isEmpty { Out.line("repaired \(repaired.joined(separator: ", ")): they now call mlv from PATH") }
        for h in hookFiles { Out.line("installed \(h)") }
        if !created.isEmpty { Out.line("Next: mlv track PATH..., then mlv commit -m MESSAGE") }
    }
}

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

struct MergeDriver: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge-driver",
        abstract: "git merge driver for pointer files (registered by `mlv init`).",
        discussion: """
        git calls it as `mlv merge-driver %O %A %B %P` when both sides of a merge changed the \
        same pointer file. It keeps the side that changed; when both changed the same target \
        differently it stops the merge and says how to choose.
        """,
        shouldDisplay: false)

    @Argument(help: "The common ancestor's version (%O).") var base: String
    @Argument(help: "Our version (%A); the result is written here.") var ours: String
    @Argument(help: "Their version (%B).") var theirs: String
    @Argument(help: "The path in the repository (%P).") var path: String

    func run() throws {
        func read(_ p: String) throws -> [UInt8] { (try? FSRead.all(p)) ?? [] }
        switch PointerMerge.merge(base: try read(base), ours: try read(ours), theirs: try read(theirs), path: path) {
        case .merged(let text): try FSRead.write(text, to: ours)
        case .conflict(let message): throw MLVError.mergeConflict(message)
        }
    }
}
