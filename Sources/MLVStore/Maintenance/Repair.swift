// Repair — rebuilding the indexes from the packs themselves (restic's repair_index.go), the
// one "write the new index, then delete the old ones" (repair and prune both end with it),
// and the clean-up of temporary files interrupted commands left in tmp/.
import MLVSystem
import Glibc

public struct IndexRepair: Sendable {
    public var packsIndexed = 0
    public var objects = 0
    public var indexesReplaced = 0
    /// Packs that failed verification, moved to `lostDir` (kept, never deleted).
    public var quarantined: [String] = []
}

extension Store {
    /// Rebuilds the indexes from the packs. Every pack is verified (id against headers, every
    /// object decompressed and hashed); the good ones get one new index, written before the
    /// old indexes are removed (`replaceIndexes`). A damaged pack is moved aside to `lostDir`
    /// rather than deleted: its intact objects may still be wanted. The caller holds the lock.
    public func repairIndex() throws -> IndexRepair {
        var good: [(ObjectID, [PackedEntry])] = []
        var out = IndexRepair()
        // Every pack whose headers hold together first, so a delta's base is found in
        // whichever pack holds it; then each verified in full.
        var scanned: [(path: String, file: String, id: ObjectID?, handle: FileHandleFD?, entries: [PackedEntry]?)] = []
        for sub in try FS.listSorted(packsDir) {
            for f in try FS.listSorted(FS.join(packsDir, sub)) where Layout.isPackFileName(f) {
                let path = FS.join(packsDir, "\(sub)/\(f)")
                let id = Layout.packID(fileName: f)
                let h = try? FileHandleFD.openRead(path)
                let entries = h.flatMap { h in id.flatMap { (try? computePackID(h)) == $0 ? try? scanPack(h) : nil } }
                scanned.append((path, f, id, h, entries))
            }
        }
        let overlay = PackOverlay(scanned.compactMap { s in s.entries.flatMap { e in s.handle.map { ($0, e) } } }, fallback: nil)
        for s in scanned {
            // A delta whose base no pack holds does not make its pack damaged: the pack stays
            // indexed (its other objects are good, and a fetch of the base's pack makes the
            // delta readable again); the check after the repair reports the missing base.
            if let id = s.id, let h = s.handle, s.entries != nil, let entries = try? verifyPack(h, scanned: s.entries, bases: overlay, unresolved: { _, _ in }) {
                good.append((id, entries))
                continue
            }
            try FS.moveIntoPlace(s.path, to: FS.join(lostDir, s.file))
            out.quarantined.append(s.path)
        }
        out.indexesReplaced = try replaceIndexes(with: good)
        out.packsIndexed = good.count
        out.objects = good.reduce(0) { $0 + $1.1.count }
        return out
    }

    /// Writes one index for `packs`, durable, and only then removes every other index file
    /// (a crash in between leaves duplicate entries, which readers tolerate). Returns how
    /// many were removed. The caller holds the lock, so no writer adds an index meanwhile.
    @discardableResult
    public func replaceIndexes(with packs: [(ObjectID, [PackedEntry])]) throws -> Int {
        let bytes = encodeIndex(packs: packs)
        let name = Layout.indexFileName(bytes)
        try FS.atomicWrite(bytes, to: FS.join(indexDir, name))
        var removed = 0
        for n in try indexFileNames() where n != name {
            FS.remove(FS.join(indexDir, n))
            removed += 1
        }
        try FS.syncDirectory(indexDir)
        return removed
    }

    /// Removes what interrupted commands left in tmp/: files (partial downloads, packs of
    /// commands that were killed or stalled) whose process is gone or that are over an hour
    /// old, and spill folders of diffs whose process is gone. Called with the repository lock held (push, fetch, gc, repair),
    /// so no running writer of this clone owns those files; the hour covers a clock skewed
    /// against the file system. A running `mlv diff` takes no lock, so its folder is judged by
    /// its owner's pid. Only names mlv gives there (`scratchPath`), never through a symlink.
    public func removeStaleTemporaries() {
        guard let st = FS.lstat(tmpDir), st.st_mode & S_IFMT == S_IFDIR else { return }
        for n in (try? FS.list(tmpDir)) ?? [] {
            guard let owner = FS.scratchOwner(n, kinds: TempKind.names) else { continue }
            let path = FS.join(tmpDir, n)
            guard let e = FS.lstat(path) else { continue }
            switch e.st_mode & S_IFMT {
            // A file of a process that is gone is garbage at once: a killed `gc --aggressive`
            // leaves partial packs as big as the store (the pid check alone would trust a
            // reused pid, hence the hour too).
            case S_IFREG where isStale(e) || FS.processIsGone(owner.pid): FS.remove(path)
            case S_IFDIR where owner.kind == TempKind.diff.rawValue && FS.processIsGone(owner.pid): try? FS.removeTree(path)
            default: break
            }
        }
    }

    /// What the files and folders in tmp/ are for: `fetch-…`, `remote-…`, `push-…` (Sync,
    /// Transport), `pack-…` (PackWriter), `diff-…` (a table diff's spill folder) and
    /// `distinct-…` (a distinct count's spill file, unlinked as soon as it is open).
    public enum TempKind: String, CaseIterable, Sendable {
        case fetch, remote, push, pack, diff, distinct

        static let names = allCases.map(\.rawValue)
    }

    /// A new path in tmp/ for a file or folder of `kind`, ending in `suffix` (FS.scratchName).
    public func scratchPath(_ kind: TempKind, suffix: String = "") -> String {
        FS.join(tmpDir, FS.scratchName(kind.rawValue, suffix: suffix))
    }

    /// True for a name `scratchPath` gives.
    public static func isTempName(_ n: String) -> Bool {
        FS.scratchOwner(n, kinds: TempKind.names) != nil
    }
}

/// True for a file last modified over an hour ago: a temporary file no running command
/// still writes (`removeStaleTemporaries`, and a directory remote's tmp/).
public func isStale(_ st: stat) -> Bool {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    let ns = { (t: timespec) in Int64(t.tv_sec) * 1_000_000_000 + Int64(t.tv_nsec) }
    return ns(st.st_mtim) < ns(now) - 3_600_000_000_000
}
