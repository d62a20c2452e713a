// `mlv stage add|list|remove`: the pipeline's stages in mlv.yaml.
import ArgumentParser
import MLVCore

struct StageCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stage",
        abstract: "Define the pipeline's stages (kept in mlv.yaml).",
        subcommands: [Add.self, List.self, Remove.self])

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a stage: a command with its inputs and outputs.",
            discussion: """
            A stage runs CMD from the repository root in a controlled environment (see \
            `mlv repro --help`). Stages form a graph through their files: a stage whose \
            --dep is another stage's --out runs after it. Outputs become tracked targets.

            Each --params FILE:KEY is a value the stage depends on: KEY is a dotted path \
            (train.lr, train.layers.0), and a KEY that is a section (a mapping or list) means \
            every key below it, as in DVC: params.yaml:train covers train.lr, train.seed and \
            the rest. A change to any of them re-runs the stage. The run record \
            (mlv-runs/STAGE.json) holds each value flattened and as the file wrote it \
            ("params.yaml:train.lr": "0.001"; a null or empty section as null, {} or []). A \
            KEY the file lacks is an error (exit status 2, naming the nearest key it has): here \
            when the file exists, and at `mlv repro` before any stage runs.

            The FILE of each --params FILE:KEY is a params file while a stage reads it, as if tracked \
            with `mlv track --kind params`: `mlv diff`, `mlv params diff` and `mlv status` \
            show it, and `mlv commit` commits it. Every key in the file is compared, not only \
            the declared ones (a value the code reads but the stage does not declare shows \
            in review too); the declared keys are the ones that make the stage re-run.

            Examples:
              mlv stage add prepare --dep data/penguins.csv --dep prepare.py --out data/split -- python3 prepare.py
              mlv stage add train --dep data/split --dep train.py --params params.yaml:train.learning_rate \\
                  --out models/model.json --metrics metrics.json --seed 42 -- python3 train.py
            """)
        @OptionGroup var repo: RepoOptions
        @Argument(help: "The stage's name.") var name: String
        @Option(name: .customLong("dep"), help: "A file or folder the stage reads (repeatable).") var deps: [String] = []
        @Option(name: .customLong("out"), help: "A file or folder the stage writes (repeatable).") var outs: [String] = []
        @Option(name: .customLong("metrics"), help: "A metrics file the stage writes (repeatable).") var metrics: [String] = []
        @Option(name: .customLong("params"), help: ArgumentHelp("A parameter it depends on: a key, or a section for every key below it (repeatable).", valueName: "FILE:KEY")) var params: [String] = []
        @Option(name: .customLong("env"), help: "An environment variable passed through (repeatable).") var env: [String] = []
        @Option(help: "Seed exported as MLV_SEED.") var seed: Int?
        @Flag(name: .shortAndLong, help: "Redefine an existing stage.") var force = false
        @Flag(help: "Print the result as JSON.") var json = false
        @OptionGroup var output: QuietOption
        @Argument(parsing: .postTerminator, help: "After --: the command and its arguments.") var command: [String] = []

        func validate() throws {
            if command.isEmpty { throw ValidationError("give the command after --: mlv stage add \(name) --dep IN --out OUT -- python3 step.py") }
        }

        func run() throws {
            output.apply()
            let stage = Stage(cmd: command, deps: deps, params: params, outs: outs, metrics: metrics, env: env, seed: seed)
            try Stages(repo.open()).addStage(name, stage, replace: force)
            // The shape of `mlv stage list --json` for this stage.
            struct R: Encodable { let name: String; let stage: Stage }
            if json { try Out.json(R(name: name, stage: stage)); return }
            Out.line("stage \(name) added to \(Config.fileName); run it with `mlv repro \(name)`")
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the stages in run order.", discussion: "Example:\n  mlv stage list --json")
        @OptionGroup var repo: RepoOptions
        @Flag(help: "Print the stages as JSON.") var json = false

        func run() throws {
            let ws = try repo.open()
            let pipeline = try Pipeline(ws.config.stages, root: ws.root)
            let order = try pipeline.order(Set(ws.config.stages.keys))
            if json {
                struct Item: Encodable { let name: String; let stage: Stage; let after: [String] }
                try Out.json(order.map { Item(name: $0, stage: ws.config.stages[$0]!, after: pipeline.upstream($0)) })
                return
            }
            if order.isEmpty { Out.line("no stages yet; add one with `mlv stage add NAME -- CMD`") }
            for n in order {
                let s = ws.config.stages[n]!
                Out.line("\(n): \(s.cmd.map(shellQuote).joined(separator: " "))")
                if !s.deps.isEmpty { Out.line("  deps: \(s.deps.joined(separator: ", "))") }
                if !s.params.isEmpty { Out.line("  params: \(s.params.joined(separator: ", "))") }
                if !s.outs.isEmpty { Out.line("  outs: \(s.outs.joined(separator: ", "))") }
                if !s.metrics.isEmpty { Out.line("  metrics: \(s.metrics.joined(separator: ", "))") }
                let up = pipeline.upstream(n)
                if !up.isEmpty { Out.line("  after: \(up.joined(separator: ", "))") }
            }
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a stage from mlv.yaml.", discussion: "Example:\n  mlv stage remove evaluate")
        @OptionGroup var repo: RepoOptions
        @Argument(help: "The stage's name.") var name: String
        @Flag(help: "Print the result as JSON.") var json = false
        @OptionGroup var output: QuietOption

        func run() throws {
            output.apply()
            try Stages(repo.open()).removeStage(name)
            struct R: Encodable { let name: String; let removed: Bool }
            if json { try Out.json(R(name: name, removed: true)); return }
            Out.line("stage \(name) removed")
        }
    }
}
