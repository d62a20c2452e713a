// `mlv track`: start tracking data files or folders.
import ArgumentParser
import MLVCore

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
            if i.storage == .git { Out.line("tracking \(i.path) as \(i.kind.rawValue) (kept in git)") }
            else { Out.line("tracking \(i.path) as \(i.kind.rawValue) (pointer \(i.path).mlv)") }
        }
        if items.contains(where: { !$0.alreadyTracked }) { Out.line("Next: mlv commit -m MESSAGE") }
    }
}
