// Commits: the author's signature (environment, then config), creating a commit from the
// index (concluding a merge in progress), the merge heads, and reading a commit's info.
import MLVSystem
import CGit2
import Glibc

public struct GitSignature: Sendable, Equatable {
    public var name: String
    public var email: String
    public var time: Int64      // seconds since the epoch
    public var offset: Int32    // minutes east of UTC
}

public struct CommitInfo: Sendable {
    public var id: GitOID
    public var summary: String
    public var message: String
    public var author: GitSignature
    public var parents: [GitOID]
}

extension GitRepository {
    /// The committer/author identity the way `git commit` finds it: GIT_AUTHOR_NAME/EMAIL/DATE
    /// from the environment, else user.name/user.email from git config
    /// (`git_repository_config_snapshot`, `git_config_get_string`).
    public func signature(now: Int64) throws -> GitSignature {
        let env = ProcessEnv()
        var name = env["GIT_AUTHOR_NAME"], email = env["GIT_AUTHOR_EMAIL"]
        if name == nil || email == nil {
            var cfg: OpaquePointer?
            try check(git_repository_config_snapshot(&cfg, repo), "read config")
            defer { git_config_free(cfg) }
            func get(_ key: String) -> String? {
                var v: UnsafePointer<CChar>?
                return git_config_get_string(&v, cfg, key) == 0 ? v.map { String(cString: $0) } : nil
            }
            name = name ?? get("user.name")
            email = email ?? get("user.email")
        }
        guard let n = name, !n.isEmpty, let e = email, !e.isEmpty else {
            throw GitError(operation: "signature", code: -1, message:
                "git does not know who you are; run `git config --global user.name \"Your Name\"` and `git config --global user.email you@example.com`")
        }
        var time = now, offset: Int32 = 0
        if let d = env["GIT_AUTHOR_DATE"], let parsed = parseGitDate(d) { (time, offset) = parsed }
        return GitSignature(name: n, email: e, time: time, offset: offset)
    }

    /// Commits git's index as it is on top of HEAD, moving the current branch (or HEAD) to the
    /// new commit (`git_index_write_tree`, `git_commit_create`). Stage with `stage` first.
    public func commit(message: String, signature: GitSignature) throws -> GitOID {
        let index = try openIndex()
        defer { git_index_free(index) }
        var treeID = git_oid()
        try check(git_index_write_tree(&treeID, index), "write tree")
        var tree: OpaquePointer?
        try check(git_tree_lookup(&tree, repo, &treeID), "read tree")
        defer { git_tree_free(tree) }
        var sig: UnsafeMutablePointer<git_signature>?
        try check(git_signature_new(&sig, signature.name, signature.email, signature.time, signature.offset), "signature")
        defer { git_signature_free(sig) }
        var parents: [OpaquePointer?] = []
        defer { parents.forEach { git_commit_free($0) } }
        if let h = try head() {
            var p: OpaquePointer?
            var oid = h.raw
            try check(git_commit_lookup(&p, repo, &oid), "read HEAD commit")
            parents.append(p)
        }
        // During a `git merge` (MERGE_HEAD present) the commit concludes it, with the merged
        // commits as further parents, as `git commit` does; the merge state is then cleared.
        let merging = try mergeHeads()
        for m in merging {
            var p: OpaquePointer?
            var oid = m.raw
            try check(git_commit_lookup(&p, repo, &oid), "read MERGE_HEAD commit \(m.short)")
            parents.append(p)
        }
        var out = git_oid()
        _ = try parents.withUnsafeMutableBufferPointer { pp in
            try check(git_commit_create(&out, repo, "HEAD", sig, sig, nil, message, tree, pp.count, pp.baseAddress), "commit")
        }
        // Seen on a full disk: git_commit_create returned success while HEAD stayed where it
        // was. Only a commit that a fresh look at the repository finds at HEAD is reported;
        // otherwise `isUnrecordedCommit` says so, for the caller to add how to try again.
        let made = GitOID(out)
        if !merging.isEmpty { try check(git_repository_state_cleanup(repo), "clear the merge state") }
        let fresh = try GitRepository(discover: workdir)
        guard (try? fresh.head()) == made, (try? fresh.commitInfo(made)) != nil else {
            throw GitError(operation: "commit", code: -1, message:
                "git did not record the commit (HEAD did not move to \(made.short)); the disk may be full",
                isSystemFailure: true, isUnrecordedCommit: true)
        }
        return made
    }

    /// The commits a `git merge` in progress is merging (`git_repository_mergehead_foreach`).
    public func mergeHeads() throws -> [GitOID] {
        final class Box { var ids: [GitOID] = [] }
        let box = Box()
        let rc = git_repository_mergehead_foreach(repo, { oid, payload in
            guard let oid, let payload else { return 0 }
            Unmanaged<Box>.fromOpaque(payload).takeUnretainedValue().ids.append(GitOID(oid.pointee))
            return 0
        }, Unmanaged.passUnretained(box).toOpaque())
        if rc == GIT_ENOTFOUND.rawValue { return [] }
        try check(rc, "read MERGE_HEAD")
        return box.ids
    }

    /// A commit's summary, message, author and parents (`git_commit_lookup`, `git_commit_author`,
    /// `git_commit_parent_id`).
    public func commitInfo(_ id: GitOID) throws -> CommitInfo {
        var c: OpaquePointer?
        var oid = id.raw
        try check(git_commit_lookup(&c, repo, &oid), "read commit \(id.short)")
        defer { git_commit_free(c) }
        let a = git_commit_author(c)!.pointee
        let sig = GitSignature(name: String(cString: a.name), email: String(cString: a.email),
                               time: Int64(a.when.time), offset: Int32(a.when.offset))
        var parents: [GitOID] = []
        for i in 0..<git_commit_parentcount(c) { parents.append(GitOID(git_commit_parent_id(c, i).pointee)) }
        return CommitInfo(id: id, summary: git_commit_summary(c).map { String(cString: $0) } ?? "",
                          message: git_commit_message(c).map { String(cString: $0) } ?? "",
                          author: sig, parents: parents)
    }
}

/// Parses the date forms tests and scripts use for GIT_AUTHOR_DATE: "@<epoch> [+hhmm]" or "<epoch> [+hhmm]".
func parseGitDate(_ s: String) -> (Int64, Int32)? {
    let parts = s.split(separator: " ")
    guard let first = parts.first, let t = Int64(first.hasPrefix("@") ? first.dropFirst() : first) else { return nil }
    var offset: Int32 = 0
    if parts.count > 1, let tz = Int32(parts[1]) { offset = (tz / 100) * 60 + (tz % 100) }
    return (t, offset)
}

/// Read-only view of the process environment.
struct ProcessEnv {
    subscript(_ key: String) -> String? {
        getenv(key).map { String(cString: $0) }
    }
}
