import ArgumentParser
import MLVCore

/// `--offline` for the commands that read stored data of any revision (`diff`, `show`, `ls`,
/// `metrics`, `params diff`, `diff-driver`): without it they fetch what this clone lacks
/// from the default remote (MLVCore's `fetchMissing`), as a fresh clone in CI needs.
struct FetchOptions: ParsableArguments {
    @Flag(help: "Never fetch: data this clone lacks is an error naming the `mlv fetch` command that brings it (by default it is fetched from the default remote, verified).")
    var offline = false

    /// Fetches what `revs` (nil: the working tree, read from disk) need and the store lacks;
    /// one line on stderr when something was fetched, nothing otherwise.
    func fetch(_ ws: Workspace, revs: [String?], paths: [String] = [], pathsFromRoot: Bool = false, kinds: Set<TargetKind>? = nil,
               treesOnly: Bool = false) throws {
        let asked = revs.compactMap { $0 }
        guard !asked.isEmpty else { return }
        note(try ws.fetchMissing(revs: asked, paths: paths, pathsFromRoot: pathsFromRoot, kinds: kinds, treesOnly: treesOnly, offline: offline))
    }

    /// `mlv show REV:PATH`: the trees down to PATH, then that file's data alone.
    func fetch(showing ws: Workspace, rev: String, path: String) throws {
        note(try ws.fetchMissing(showing: rev, path: path, offline: offline))
    }

    /// `mlv diff`: the snapshots it is about to read (changed targets only).
    func fetch(_ ws: Workspace, needed: [NeededSnapshot], paths: [String]) throws {
        note(try ws.fetchMissing(needed, offline: offline) { Workspace.fetchHint($0, paths: paths) })
    }

    private func note(_ got: (fetched: TransferResult, missing: [NeededSnapshot])?) {
        guard let got else { return }
        let r = got.fetched
        var revs: [String] = []
        for m in got.missing where !revs.contains(m.label) { revs.append(m.label) }
        Out.err("fetched \(r.packs) pack\(r.packs == 1 ? "" : "s") (\(bytes(r.bytes))) from \(r.remote): the data of \(revs.joined(separator: ", ")) this clone lacked")
    }
}
