// `mlv fsck` for people: what a repair did, then each problem and the totals checked.
import MLVCore

enum FsckText {
    static func repaired(_ x: RepairResult) {
        for q in x.quarantined { Out.line("moved damaged pack \(q) to .mlv/store/lost/") }
        Out.line("rebuilt the index: \(counted(x.packsIndexed, "pack")), \(counted(x.objects, "object")) (replacing \(counted(x.indexesReplaced, "index file")))")
    }

    static func render(_ r: FsckResult, quiet: Bool) {
        for s in r.skippedPointers { Out.err("warning: skipped \(s)") }
        // With --quiet the problems still show, on stderr: they are what went wrong.
        for p in r.problems { (quiet ? Out.err : Out.line)("\(p.what) \(p.path): \(p.problem)") }
        Out.line("checked \(counted(r.packs, "pack")), \(counted(r.objects, "object")), \(counted(r.commits, "commit")): \(r.problems.isEmpty ? "no problems" : "\(counted(r.problems.count, "problem"))")")
        if r.notFetched > 0 {
            Out.line("\(counted(r.notFetched, "committed snapshot")) not in this store (for the remote to hold; `mlv fetch --rev REV` brings a commit's)"
                     + (r.headNotFetched ? "; HEAD's data is incomplete here: run `mlv pull`" : ""))
        }
    }
}
