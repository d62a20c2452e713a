// Writing a commit's files: checkout into the working tree (mlv's own files atomically),
// export into another folder, and stash of local changes before a checkout.
import MLVSystem
import CGit2
import Glibc

extension GitRepository {
    /// Checks out a commit's tree into the working tree and moves HEAD to the branch `branch`,
    /// or detaches it at `commit` (`git_checkout_tree`, `git_repository_set_head[_detached]`).
    /// With `force`, local changes to files git tracks are overwritten.
    /// `git checkout`: files, index, then HEAD. Files for which `isOwn` holds (mlv's pointers
    /// and config) are written here, each atomically (temp, fsync, rename), after the rest:
    /// libgit2 writes files in place, and a process killed meanwhile would leave one
    /// truncated, which for a pointer or mlv.yaml would stop every later command. The rest
    /// goes through libgit2, limited to the paths that differ from HEAD.
    public func checkout(_ commit: GitOID, branch: String?, force: Bool, atomically isOwn: (String) -> Bool = { _ in false }) throws {
        var obj: OpaquePointer?
        var oid = commit.raw
        try check(git_object_lookup(&obj, repo, &oid, GIT_OBJECT_COMMIT), "read \(commit.short)")
        defer { git_object_free(obj) }
        let changed = try changedPaths(from: head(), to: commit)
        let own = changed.filter(isOwn)
        let others = changed.filter { !isOwn($0) }
        // Only paths that differ between the two commits are touched (exact names), as git
        // does: a local change to a file that is the same in both is kept, even with force.
        if !others.isEmpty {
            var opts = git_checkout_options()
            try check(git_checkout_options_init(&opts, UInt32(GIT_CHECKOUT_OPTIONS_VERSION)), "checkout")
            opts.checkout_strategy = (force ? GIT_CHECKOUT_FORCE.rawValue : GIT_CHECKOUT_SAFE.rawValue)
                | GIT_CHECKOUT_DISABLE_PATHSPEC_MATCH.rawValue
            var cPaths = others.map { strdup($0) }
            defer { cPaths.forEach { free($0) } }
            try cPaths.withUnsafeMutableBufferPointer { buf in
                opts.paths = git_strarray(strings: buf.baseAddress, count: buf.count)
                try check(git_checkout_tree(repo, obj, &opts), "checkout \(commit.short)")
            }
        }
        for path in own {
            let abs = workdir + "/" + path
            if let bytes = try blob(at: path, in: commit) {
                try FS.makeDirectories(FS.dirname(abs))
                try FS.atomicWrite(bytes, to: abs)
            } else if unlink(abs) != 0 && errno != ENOENT {
                throw IOError("remove", abs)
            }
        }
        if !own.isEmpty {
            let index = try openIndex()
            defer { git_index_free(index) }
            try check(git_index_read(index, 1), "read index")
            for path in own {
                if try workingFileExists(path) {
                    try check(git_index_add_bypath(index, path), "stage \(path)")
                } else {
                    let rc = git_index_remove_bypath(index, path)
                    if rc != 0 && rc != GIT_ENOTFOUND.rawValue { try check(rc, "unstage \(path)") }
                }
            }
            try check(git_index_write(index), "write index")
        }
        if let b = branch {
            try check(git_repository_set_head(repo, "refs/heads/" + b), "move HEAD to \(b)")
        } else {
            try check(git_repository_set_head_detached(repo, &oid), "move HEAD to \(commit.short)")
        }
    }

    /// Writes a commit's files into another directory, leaving the working tree, index and
    /// HEAD alone (`git_checkout_tree` with `target_directory`).
    public func export(_ commit: GitOID, to dir: String) throws {
        var obj: OpaquePointer?
        var oid = commit.raw
        try check(git_object_lookup(&obj, repo, &oid, GIT_OBJECT_COMMIT), "read \(commit.short)")
        defer { git_object_free(obj) }
        var opts = git_checkout_options()
        try check(git_checkout_options_init(&opts, UInt32(GIT_CHECKOUT_OPTIONS_VERSION)), "checkout")
        opts.checkout_strategy = GIT_CHECKOUT_FORCE.rawValue | GIT_CHECKOUT_DONT_UPDATE_INDEX.rawValue
        try dir.withCString { d in
            opts.target_directory = d
            try check(git_checkout_tree(repo, obj, &opts), "export \(commit.short) to \(dir)")
        }
    }

    /// Saves local changes to files git tracks as a stash entry and resets them, like
    /// `git stash` (`git_stash_save`). Returns nil when there was nothing to save.
    public func stash(message: String, signature: GitSignature) throws -> GitOID? {
        var sig: UnsafeMutablePointer<git_signature>?
        try check(git_signature_new(&sig, signature.name, signature.email, signature.time, signature.offset), "signature")
        defer { git_signature_free(sig) }
        var out = git_oid()
        let rc = git_stash_save(&out, repo, sig, message, GIT_STASH_DEFAULT.rawValue)
        if rc == GIT_ENOTFOUND.rawValue { return nil }
        try check(rc, "stash")
        return GitOID(out)
    }
}
