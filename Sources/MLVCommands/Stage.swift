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

struct Repro: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run what is out of date in the pipeline, in dependency order.",
        discussion: """
        Works on the working tree's data and code, committed or not. For each stage (and the \
        stages it depends on): skipped when its inputs, params and definition match its run \
        record and its outputs are unchanged; restored when exactly these inputs ran before \
        (the command does not run: its outputs come back from the store, and the record of \
        that run, byte for byte, from mlv-runs/STAGE.json, HEAD's commit or the run cache, \
        in that order, so going back to committed inputs gives the committed tree); run \
        otherwise. Each run writes mlv-runs/STAGE.json: the definition's hash, every input's \
        snapshot id, params, command, environment, tool versions, output snapshot ids, \
        metrics, duration, exit status. It is staged in git with the outputs' pointers.

        The environment is controlled: only PATH, HOME and the stage's --env variables pass \
        through; TZ=UTC, LC_ALL=C.UTF-8, PYTHONHASHSEED=0, thread counts = 1, \
        SOURCE_DATE_EPOCH = HEAD's date, MLV_SEED = the stage's seed. Output lines are \
        prefixed with the stage's name; the full log is in .mlv/logs/STAGE.log. A command that \
        fails (or is interrupted) records nothing and leaves the previous outputs in place.

        Examples:
          mlv repro             # everything out of date
          mlv repro train       # train and what it depends on
        """)

    @OptionGroup var repo: RepoOptions
    @Flag(help: "Print the steps as JSON (the stages' own output goes to stderr then).") var json = false
    @OptionGroup var output: QuietOption
    @Flag(help: "For CI: re-run each stage in isolation from the inputs pinned at --rev and compare with its committed record.") var verify = false
    @Option(help: "With --verify: the commit to verify (default HEAD).") var rev: String?
    @Option(help: "With --verify: accept differing outputs when every numeric metric is within this of the record.") var tolerance: Double?
    @Argument(help: "Stages to bring up to date (default: all).") var stages: [String] = []

    func validate() throws {
        if !verify && (rev != nil || tolerance != nil) { throw ValidationError("--rev and --tolerance go with --verify") }
    }

    func run() throws {
        output.apply()
        if verify { return try runVerify() }
        let steps = try Runner(repo.open()).repro(stages, output: stageOutput(json: json))
        if json { try Out.json(steps); return }
        if steps.isEmpty { Out.line(Repro.noStages) }
        for s in steps {
            switch s.action {
            case .skipped: Out.line("\(s.stage): up to date")
            case .restored: Out.line("\(s.stage): restored from \(s.reason)")
            default: Out.line("\(s.stage): ran in \(String(format: "%.2f", s.record?.durationSeconds ?? 0)) s (\(s.reason))")
            }
        }
    }
}

extension Repro {
    /// Said when there is nothing to run or verify, so that an empty pipeline is not mistaken
    /// for one that is up to date or reproduced.
    static let noStages = "no stages in mlv.yaml: nothing to run; add one with `mlv stage add NAME -- CMD`"

    func runVerify() throws {
        let results = try Runner(repo.open()).verify(stages, rev: rev, tolerance: tolerance, output: stageOutput(json: json))
        if json { try Out.json(results) } else {
            if results.isEmpty { Out.line(Repro.noStages) }
            for r in results {
                Out.line("\(r.stage): \(r.ok ? "reproduced" : "DIFFERS from its record")")
                for o in r.outputs where !o.same {
                    Out.line("  ~ \(o.path): recorded \(o.recorded.map { String($0.prefix(12)) } ?? "—"), reproduced \(o.reproduced.map { String($0.prefix(12)) } ?? "—")")
                }
                for m in r.metrics {
                    Out.line("  metric \(m.key)\(m.file == r.stage ? "" : " (\(m.file))"): \(m.old?.description ?? "—") → \(m.new?.description ?? "—")" + (m.delta.map { " (\(formatNumber($0)))" } ?? ""))
                }
            }
        }
        if results.contains(where: { !$0.ok }) { throw ExitCode(ExitStatus.verifyFailed.rawValue) }
    }
}

/// Where a stage's own output lines (and mlv's notes on them, such as where it saved an
/// edited output) go: stdout, or stderr when stdout carries JSON, so `--json` output always
/// parses, or is to stay empty (--quiet).
func stageOutput(json: Bool) -> (String) -> Void {
    json || Out.quiet ? { Out.err($0) } : { Out.line($0) }
}

struct RunStage: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run one stage in isolation on exactly the inputs pinned at a commit.",
        discussion: """
        The code at REV (default HEAD) is exported into a work directory under .mlv/work, \
        every tracked target is materialized there from the store as REV's pointers pin it \
        (inputs read-only), and the stage runs in the controlled environment of \
        `mlv repro`. Its outputs are stored; at HEAD they are also brought into the working \
        tree with the run record (mlv-runs/STAGE.json), staged for the next commit.

        Examples:
          mlv run train
          mlv run train --rev v1.0      # what v1.0's inputs give today
        """)
    @OptionGroup var repo: RepoOptions
    @Option(help: "The commit whose inputs to use (default HEAD).") var rev: String?
    @Flag(help: "Print the run record as JSON (the stage's own output goes to stderr then).") var json = false
    @OptionGroup var output: QuietOption
    @Argument(help: "The stage.") var stage: String

    func run() throws {
        output.apply()
        let r = try Runner(repo.open()).runPinned(stage, rev: rev, output: stageOutput(json: json))
        if json { try Out.json(r); return }
        Out.line("\(stage): ran in \(String(format: "%.2f", r.durationSeconds)) s on the inputs pinned at \(rev ?? "HEAD")")
        for (path, id) in r.outputs.sorted(by: { $0.key < $1.key }) { Out.line("  \(path): snapshot \(id.prefix(12))") }
    }
}
