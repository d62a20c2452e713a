// Writing a snapshot into the working tree, file by file, through a Restorer (which writes
// under temporary names and renames into place in `finish`): used by checkout, repro's
// cache restores and isolated runs. Also the walk from a snapshot's root to a path inside it.
import MLVSystem
import Glibc
import MLVStore

extension Workspace {
    /// Follows `components` down from a snapshot's root entry.
    func entry(in root: TreeEntry, at components: [String]) throws -> TreeEntry? {
        var e = root
        for c in components {
            guard e.kind == .directory else { return nil }
            guard let next = try store().tree(e.id).entries.first(where: { $0.name == c }) else { return nil }
            e = next
        }
        return e
    }

    /// Writes `entry` at `rel`, touching only files whose content differs.
    func place(_ entry: TreeEntry, at rel: String, restorer: Restorer, snap: Snapshotter) throws {
        // The cache no longer vouches for any target this touches; the next full pass will.
        for t in snap.cache.verified.keys where RepoPath.isWithin(rel, t) || RepoPath.isWithin(t, rel) {
            snap.cache.verified[t] = nil
        }
        try tree.makeParents(absolute(rel))
        let abs = absolute(rel)
        let st = FS.lstat(abs)
        switch entry.kind {
        case .file:
            var reuse: Restorer.Reuse? = nil
            if let st, st.st_mode & S_IFMT == S_IFREG {
                let fs = FileStat(st)
                let known = snap.cache.lookup(rel, fs)
                if known == entry.id && fs.isExecutable == entry.executable { return }
                if let k = known, let m = try? store().manifest(k) { reuse = Restorer.Reuse(path: abs, manifest: m, stat: fs) }
            }
            try restorer.writeFile(entry.id, to: abs, rel: rel, executable: entry.executable, reuse: reuse, size: entry.size)
        case .symlink:
            if let st, st.st_mode & S_IFMT == S_IFLNK, let t = try? readLink(abs),
               ObjectID.hash(t) == entry.id { return }
            try restorer.writeSymlink(entry.id, to: abs, rel: rel)
        case .directory:
            if let st, st.st_mode & S_IFMT != S_IFDIR {
                // A file where the folder goes: the folder is built under a temporary name and
                // swapped in by finish(), so nothing is removed before the new data is whole.
                let tmp = FS.tempPath(for: abs)
                try FS.makeDirectories(tmp)
                restorer.renameDirectory(tmp, to: abs)
                let tree = try store().tree(entry.id)
                for e in tree.entries {
                    try placeFresh(e, at: FS.join(tmp, e.name), rel: rel + "/" + e.name, restorer: restorer)
                }
                return
            }
            if !FS.isDirectory(abs) { try FS.makeDirectories(abs) }
            let tree = try store().tree(entry.id)
            let wanted = Set(tree.entries.map(\.name))
            for name in try FS.list(abs) where !wanted.contains(name) {
                restorer.remove(FS.join(abs, name))
                snap.cache.forget(target: rel + "/" + name)
            }
            for e in tree.entries { try place(e, at: rel + "/" + e.name, restorer: restorer, snap: snap) }
        }
    }

    /// Writes `entry` at `abs` where nothing exists yet (inside a folder being built).
    private func placeFresh(_ entry: TreeEntry, at abs: String, rel: String, restorer: Restorer) throws {
        switch entry.kind {
        case .file: try restorer.writeFile(entry.id, to: abs, rel: rel, executable: entry.executable, reuse: nil, direct: true, size: entry.size)
        case .symlink: try restorer.writeSymlink(entry.id, to: abs, rel: rel, direct: true)
        case .directory:
            try FS.makeDirectories(abs)
            for e in try store().tree(entry.id).entries {
                try placeFresh(e, at: FS.join(abs, e.name), rel: rel + "/" + e.name, restorer: restorer)
            }
        }
    }
}
