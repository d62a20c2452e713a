// `mlv gc` for people: what was (or would be) freed, and what only a reflog or stash keeps.
import MLVCore

enum GCText {
    static func render(_ r: GCResult, dryRun: Bool) {
        for s in r.skippedPointers { Out.err("warning: skipped \(s)") }
        if let p = r.repack {
            Out.line("repacked \(counted(p.objects, "live object")) (\(grouped(UInt64(p.deltas))) chunks as deltas): \(counted(p.packsBefore, "pack")), \(bytes(p.bytesBefore)) -> \(counted(p.packsAfter, "pack")), \(bytes(p.bytesAfter))")
            return
        }
        Out.line("\(dryRun ? "would free" : "freed") \(bytes(r.bytesFreed)): \(counted(r.packsDeleted, "pack")) deleted, \(r.packsRepacked) repacked, \(r.packsKept) kept; \(counted(r.liveObjects, "live object"))")
        let k = r.keptForReflogOrStash
        if k.snapshots > 0 {
            Out.line("kept \(counted(k.snapshots, "snapshot")) (\(bytes(k.bytes)) in \(counted(k.objects, "object"))) only for the reflog or stash (\(k.refs.joined(separator: ", "))); to let go: git reflog expire --expire=now --all && git stash clear, then mlv gc")
        }
    }
}
