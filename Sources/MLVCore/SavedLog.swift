// `.mlv/state/saved.log`: the versions of uncommitted work that `checkout --force` (and a
// run that overwrote edited outputs) saved into the store, so they can be found again and
// gc keeps them. One line per version: `SECONDS ID PATH`.
import MLVSystem
import MLVStore

extension Workspace {
    var savedLogPath: String { FS.join(mlvDir, "state/saved.log") }

    /// Appends to the saved log what --force saved.
    func appendSavedLog(_ rel: String, _ id: ObjectID) throws {
        let old = (try? FS.readAll(savedLogPath)) ?? []
        let line = "\(realtimeNanoseconds() / 1_000_000_000) \(id.hex) \(rel)\n"
        try FS.atomicWrite(old + Array(line.utf8), to: savedLogPath)
    }

    /// The snapshots the saved log names.
    func savedSnapshots() -> Set<ObjectID> {
        guard let log = try? FS.readAll(savedLogPath) else { return [] }
        var out = Set<ObjectID>()
        for line in String(decoding: log, as: UTF8.self).split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count >= 2, let id = ObjectID(hex: parts[1]) { out.insert(id) }
        }
        return out
    }

    /// Whether working content `id` may be replaced without saving it: the store holds it,
    /// and not only as a version --force saved (that one, brought back with --snapshot, is
    /// the user's uncommitted work again, and its id is all that would find it).
    func replaceable(_ id: ObjectID, saved: inout Set<ObjectID>?) throws -> Bool {
        guard try store().contains(id) else { return false }
        let all = saved ?? savedSnapshots()
        saved = all
        return !all.contains(id)
    }
}
