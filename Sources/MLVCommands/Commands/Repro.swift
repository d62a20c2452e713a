// `mlv repro` (and `--verify`): bring the pipeline up to date, or check its records.
import ArgumentParser
import MLVCore

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
        ReproText.steps(steps)
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
            ReproText.verified(results)
        }
        if results.contains(where: { !$0.ok }) { throw ExitCode(ExitStatus.verifyFailed.rawValue) }
    }
}
