import MLVSystem
import ArgumentParser
import MLVCore
import MLVStore

extension TargetKind: ExpressibleByArgument {}

struct Track: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Start tracking data files or folders.",
        discussion: """
        Writes a pointer file PATH.mlv that git versions, and adds PATH to .gitignore so the \
        data itself stays out of git. The data is stored at the next `mlv commit`. Tracking a \
        path that is already tracked does nothing.

        The kind decides how `mlv diff` and `mlv log` present a target. Without --kind it is \
        inferred: *.csv, *.tsv, *.jsonl and folders are datasets; *.safetensors, *.pt, *.onnx, \
        *.bin, *.pkl and similar are models; names containing "feature" are feature \
        definitions; metrics*.json and params*.yaml are metrics and params. Metrics and \
        params files stay in git itself, so reviewers read them in the pull request: mlv \
        only records their kind in mlv.yaml.

        Examples:
          mlv track data/train.csv
          mlv track data/images/ models/model.safetensors
          mlv track --kind features features/user.yaml
          mlv track --kind metrics metrics.json
        """)

    @OptionGroup var repo: RepoOptions
    @Option(help: "What the paths hold: dataset, features, model, metrics or params.") var kind: TargetKind?
    @Flag(help: "Print the result as JSON.") var json = false
    @OptionGroup var output: QuietOption
    @Argument(help: "Files or folders to track.") var paths: [String]

    func validate() throws {
        if paths.isEmpty { throw ValidationError("name at least one file or folder to track, e.g. `mlv track data/train.csv`") }
    }

    func run() throws {
        output.apply()
        let items = try MLVCore.Track(repo.open()).track(paths, kind: kind)
        if json { try Out.json(items); return }
        for i in items {
            if i.alreadyTracked { Out.line("already tracked: \(i.path) (\(i.kind.rawValue))"); continue }
            if i.storage == "git" { Out.line("tracking \(i.path) as \(i.kind.rawValue) (kept in git)") }
            else { Out.line("tracking \(i.path) as \(i.kind.rawValue) (pointer \(i.path).mlv)") }
        }
        if items.contains(where: { !$0.alreadyTracked }) { Out.line("Next: mlv commit -m MESSAGE") }
    }
}

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

/// File helpers for the commands that work on plain paths (the merge driver).
enum FSRead {
    static func all(_ path: String) throws -> [UInt8] { try FS.readAll(path) }
    static func write(_ text: String, to path: String) throws { try FS.atomicWrite(Array(text.utf8), to: path) }
}
