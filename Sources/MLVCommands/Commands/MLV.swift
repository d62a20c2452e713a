// `mlv` itself: the command tree, its help (with the exit-status table), and `run`, which parses,
// runs one command and exits with the documented status.
import ArgumentParser
import Foundation
import MLVCore

public struct MLV: ParsableCommand {
    public static let version = "0.1.0"

    public static let configuration = CommandConfiguration(
        commandName: "mlv",
        abstract: "Version datasets, feature definitions and models next to git.",
        discussion: """
        mlv stores tracked data as content-defined, zstd-compressed chunks in a local store \
        (.mlv/), writes a small pointer file per target that git versions, and makes the git \
        commit in the same step. A small change to a big file stores only the changed chunks.

        A first session:
          mlv init                          # in a git repository
          mlv track data/train.csv models/  # start tracking a file and a folder
          mlv commit -m "First data"        # snapshot + pointers + git commit
          mlv status                        # what changed since
          mlv log data/train.csv            # its history
          mlv checkout HEAD~1               # data and code as they were

        `mlv -C PATH COMMAND …` runs COMMAND as if mlv was started in PATH, as `git -C` does \
        (every command also takes -C after its name).

        Exit status:
        \(ExitStatus.allCases.map { "  \($0.rawValue)  \($0.meaning)" }.joined(separator: "\n"))
        """,
        version: version,
        subcommands: [
            Init.self, Track.self, Untrack.self, Commit.self, Status.self, Checkout.self,
            Log.self, Show.self, Ls.self, Diff.self, Metrics.self, Params.self, StageCommand.self, RunStage.self, Repro.self, Lineage.self,
            RemoteCommand.self, Push.self, Fetch.self, Pull.self, Fsck.self, GC.self, Hooks.self, DiffDriver.self, MergeDriver.self,
        ]
    )

    public init() {}

    /// Runs the command line and exits with the documented status.
    public static func run(arguments: [String]? = nil) -> Never {
        var args = arguments ?? Array(CommandLine.arguments.dropFirst())
        // `mlv -C PATH COMMAND`, git's global form: each -C is taken relative to the one before.
        while args.count >= 2 && args[0] == "-C" {
            guard !args[1].isEmpty, FileManager.default.changeCurrentDirectoryPath(args[1]) else {
                Out.err("mlv: error: -C \(args[1]): no such folder (or not one mlv may enter); give the folder to run in")
                Foundation.exit(ExitStatus.userError.rawValue)
            }
            args.removeFirst(2)
        }
        if let message = unknownCommand(args) {
            Out.err("mlv: \(message)")
            Foundation.exit(ExitStatus.usage.rawValue)
        }
        do {
            var command = try parseAsRoot(args)
            try command.run()
            Foundation.exit(0)
        } catch let e as ExitCode {
            Foundation.exit(e.rawValue)
        } catch {
            if let (message, status) = classify(error) {
                Out.err("mlv: error: \(message)")
                Foundation.exit(status.rawValue)
            }
            // Any error whose status ArgumentParser leaves at 1 would read as "differences
            // found": a usage error of ours (a ValidationError thrown while running, say)
            // exits 64, anything else 2.
            if exitCode(for: error) == .failure {
                let fromParser = String(reflecting: type(of: error)).hasPrefix("ArgumentParser.")
                var message = fromParser ? fullMessage(for: error) : String(describing: error)
                if message.hasPrefix("Error: ") { message.removeFirst(7) }
                Out.err("mlv: error: \(message)")
                Foundation.exit(fromParser ? ExitStatus.usage.rawValue : ExitStatus.userError.rawValue)
            }
            exit(withError: error)
        }
    }

    /// The message for a first word that is no command (`mlv comit -m x`, `mlv help nosuch`),
    /// naming the nearest command as git does; nil when the words name a command.
    static func unknownCommand(_ args: [String]) -> String? {
        var words = args
        if words.first == "help" { words.removeFirst() }
        guard let first = words.first, !first.hasPrefix("-") else { return nil }
        let names = configuration.subcommands.map { $0._commandName } + ["help"]
        if names.contains(first) { return nil }
        var message = "'\(first)' is not an mlv command (see `mlv --help`)"
        if let name = Suggest.nearest(first, among: names) { message += "; did you mean `mlv \(name)`?" }
        return message
    }
}
