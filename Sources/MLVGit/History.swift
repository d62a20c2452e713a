// History: the commits reachable from one (`log`), and the commits gc must keep, from refs,
// the stash and reflogs.
import MLVSystem
import CGit2
import Glibc

extension GitRepository {
    /// Commits reachable from `start`, newest first, topologically (`git_revwalk`).
    public func history(from start: GitOID, limit: Int? = nil) throws -> [GitOID] {
        var walk: OpaquePointer?
        try check(git_revwalk_new(&walk, repo), "log")
        defer { git_revwalk_free(walk) }
        try check(git_revwalk_sorting(walk, GIT_SORT_TOPOLOGICAL.rawValue | GIT_SORT_TIME.rawValue), "log")
        var s = start.raw
        try check(git_revwalk_push(walk, &s), "log")
        var out: [GitOID] = []
        var oid = git_oid()
        var rc = git_revwalk_next(&oid, walk)
        while rc == 0 {
            out.append(GitOID(oid))
            if let l = limit, out.count >= l { break }
            rc = git_revwalk_next(&oid, walk)
        }
        try checkSystem(rc, "log")
        return out
    }

    /// The commits gc must keep, split by why: `fromRefs` are reachable from HEAD and every
    /// reference except the stash; `onlyFromLogs` only from a stash entry or a reflog entry
    /// (old or new side, as git's own gc counts them), each with the refs whose logs reach
    /// it (`refs/stash` for stash entries), so gc can say what holds them and how to let go
    /// (`git_reference_foreach_name`, `git_revwalk`, `git_stash_foreach`, `git_reflog_read`).
    public func reachableCommitsBySource() throws -> (fromRefs: [GitOID], onlyFromLogs: [(commit: GitOID, via: [String])]) {
        final class Names { var names: [String] = [] }
        let names = Names()
        let ncb: git_reference_foreach_name_cb = { name, payload in
            Unmanaged<Names>.fromOpaque(payload!).takeUnretainedValue().names.append(String(cString: name!))
            return 0
        }
        try checkSystem(git_reference_foreach_name(repo, ncb, Unmanaged.passUnretained(names).toOpaque()), "list references")
        let refs = names.names.filter { $0 != "refs/stash" }
        let hasHead = try head() != nil
        func commitExists(_ id: git_oid) -> Bool {
            var oid = id
            var obj: OpaquePointer?
            guard git_object_lookup(&obj, repo, &oid, GIT_OBJECT_COMMIT) == 0 else { return false }
            git_object_free(obj)
            return true
        }
        func walk(push: [git_oid], pushRefs: Bool, hideRefs: Bool) throws -> [GitOID] {
            var w: OpaquePointer?
            try check(git_revwalk_new(&w, repo), "walk")
            defer { git_revwalk_free(w) }
            // A ref to something that is not a commit (a tag of a tree) is not history: skipped.
            if pushRefs {
                for r in refs { try checkSystem(git_revwalk_push_ref(w, r), "walk \(r)") }
                if hasHead { try checkSystem(git_revwalk_push_head(w), "walk HEAD") }
            }
            if hideRefs {
                for r in refs { try checkSystem(git_revwalk_hide_ref(w, r), "walk \(r)") }
                if hasHead { try checkSystem(git_revwalk_hide_head(w), "walk HEAD") }
            }
            for var id in push { try check(git_revwalk_push(w, &id), "walk stash and reflogs") }
            var out: [GitOID] = []
            var oid = git_oid()
            var rc = git_revwalk_next(&oid, w)
            while rc == 0 {
                out.append(GitOID(oid))
                rc = git_revwalk_next(&oid, w)
            }
            try checkSystem(rc, "walk")
            return out
        }
        let fromRefs = try walk(push: [], pushRefs: true, hideRefs: false)
        // What each log still reaches: stash entries, then every reflog (HEAD's included).
        var sources: [(String, [git_oid])] = []
        final class Box { var ids: [git_oid] = [] }
        let box = Box()
        let cb: git_stash_cb = { _, _, oid, payload in
            Unmanaged<Box>.fromOpaque(payload!).takeUnretainedValue().ids.append(oid!.pointee)
            return 0
        }
        try checkSystem(git_stash_foreach(repo, cb, Unmanaged.passUnretained(box).toOpaque()), "read the stash")
        // The stash ref itself: its reflog (the entries above) may have been expired while
        // the ref still holds the latest entry.
        var top = git_oid()
        if git_reference_name_to_id(&top, repo, "refs/stash") == 0, commitExists(top) { box.ids.append(top) }
        sources.append(("refs/stash", box.ids))
        for name in ["HEAD"] + names.names where name != "refs/stash" {
            var log: OpaquePointer?
            let rc = git_reflog_read(&log, repo, name)
            guard rc == 0 else { try checkSystem(rc, "read the reflog of \(name)"); continue }
            defer { git_reflog_free(log) }
            var ids: [git_oid] = []
            for i in 0..<git_reflog_entrycount(log) {
                guard let e = git_reflog_entry_byindex(log, i) else { continue }
                // Only ids that still name a commit (a reflog may point at pruned objects).
                for side in [git_reflog_entry_id_old(e), git_reflog_entry_id_new(e)] {
                    if let ptr = side, git_oid_is_zero(ptr) == 0, commitExists(ptr.pointee) { ids.append(ptr.pointee) }
                }
            }
            sources.append((name, ids))
        }
        var via: [GitOID: [String]] = [:]
        var order: [GitOID] = []
        for (name, ids) in sources where !ids.isEmpty {
            for c in try walk(push: ids, pushRefs: false, hideRefs: true) {
                if via[c] == nil { order.append(c) }
                via[c, default: []].append(name)
            }
        }
        return (fromRefs, order.map { ($0, via[$0]!) })
    }
}
