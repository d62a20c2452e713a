// `mlv init`: set up mlv in a git repository.
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
