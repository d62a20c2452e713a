// `mlv run`: one stage in isolation on the inputs pinned at a commit.
import ArgumentParser
import Foundation
import MLVCore

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
