// What every command shares: opening the repository (-C, progress), --quiet, --offline and
// the fetch of missing data, the lock-wait notice, REV:PATH arguments, where a stage's output goes.
import ArgumentParser
import Foundation
import MLVCore

/// Options every command that works in a repository takes.
struct RepoOptions: ParsableArguments {
    @Option(name: .customShort("C"), help: ArgumentHelp("Run as if mlv was started in <path>.", valueName: "path"))
    var directory: String?

    func cwd() -> String {
        let base = FileManager.default.currentDirectoryPath
        guard let d = directory else { return base }
        return d.hasPrefix("/") ? d : base + "/" + d
    }

    func open() throws -> Workspace {
        let ws = try Workspace.open(cwd: cwd())
        if isatty(2) != 0 { ws.progress = TerminalProgress().update }
        return ws
    }
}

/// -q/--quiet for the commands that act: nothing on stdout; warnings, the way back from
/// anything saved, and errors still go to stderr, and the exit status tells the outcome.
struct QuietOption: ParsableArguments {
    @Flag(name: .shortAndLong, help: "Print nothing on stdout (warnings and errors still go to stderr).") var quiet = false

    /// Call first in `run()`.
    func apply() { Out.quiet = quiet }
}

/// `--offline` for the commands that read stored data of any revision (`diff`, `show`, `ls`,
/// `metrics`, `params diff`, `diff-driver`): without it they fetch what this clone lacks
/// from the default remote (MLVCore's `FetchMissing`), as a fresh clone in CI needs.
struct FetchOptions: ParsableArguments {
    @Flag(help: "Never fetch: data this clone lacks is an error naming the `mlv fetch` command that brings it (by default it is fetched from the default remote, verified).")
    var offline = false

    /// Fetches what `revs` (nil: the working tree, read from disk) need and the store lacks;
    /// one line on stderr when something was fetched, nothing otherwise.
    func fetch(_ ws: Workspace, revs: [String?], paths: [String] = [], pathsFromRoot: Bool = false, kinds: Set<TargetKind>? = nil,
               treesOnly: Bool = false) throws {
        let asked = revs.compactMap { $0 }
        guard !asked.isEmpty else { return }
        note(try FetchMissing(ws).run(revs: asked, paths: paths, pathsFromRoot: pathsFromRoot, kinds: kinds, treesOnly: treesOnly, offline: offline))
    }

    /// `mlv show REV:PATH`: the trees down to PATH, then that file's data alone.
    func fetch(showing ws: Workspace, rev: String, path: String) throws {
        note(try FetchMissing(ws).run(showing: rev, path: path, offline: offline))
    }

    /// `mlv diff`: the snapshots it is about to read (changed targets only).
    func fetch(_ ws: Workspace, needed: [NeededSnapshot], paths: [String]) throws {
        note(try FetchMissing(ws).run(needed, offline: offline) { FetchMissing.hint($0, paths: paths) })
    }

    private func note(_ got: (fetched: TransferResult, missing: [NeededSnapshot])?) {
        guard let got else { return }
        let r = got.fetched
        var revs: [String] = []
        for m in got.missing where !revs.contains(m.label) { revs.append(m.label) }
        Out.err("fetched \(r.packs) pack\(r.packs == 1 ? "" : "s") (\(bytes(r.bytes))) from \(r.remote): the data of \(revs.joined(separator: ", ")) this clone lacked")
    }
}

/// Tells the user when another mlv holds the lock.
func waitingNotice(_ holder: String) { Out.err("mlv: waiting for the repository lock held by \(holder)…") }

extension TargetKind: ExpressibleByArgument {}

/// "REV:PATH" → (REV, PATH); "PATH" → ("HEAD", PATH); "REV" (ls) → (REV, nil).
func splitSpec(_ s: String) -> (String, String?) {
    if let i = s.firstIndex(of: ":") {
        let rev = String(s[..<i])
        return (rev.isEmpty ? "HEAD" : rev, String(s[s.index(after: i)...]))
    }
    return s.contains("/") || s.contains(".") ? ("HEAD", s) : (s, nil)
}

/// Where a stage's own output lines (and mlv's notes on them, such as where it saved an
/// edited output) go: stdout, or stderr when stdout carries JSON, so `--json` output always
/// parses, or is to stay empty (--quiet).
func stageOutput(json: Bool) -> (String) -> Void {
    json || Out.quiet ? { Out.err($0) } : { Out.line($0) }
}
