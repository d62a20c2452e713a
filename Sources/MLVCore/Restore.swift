import MLVSystem
import Dispatch
import Glibc
import MLVStore
import Synchronization

/// Writes snapshots from the store into the working tree.
///
/// Every file is written to a temporary name next to its final place; once a whole target is
/// written, one `syncfs` makes all of it durable and only then are the files renamed into
/// place, so each file appears whole and a crash leaves old files or new ones, plus temp
/// files that the next run removes. Chunks the old working file already holds are copied from
/// it (and re-verified) instead of decompressed from the store: switching between two
/// versions of a big file mostly reads the file that is already there.
final class Restorer {
    let store: Store
    private let readers: [ChunkReader]   // one per worker thread
    private var pendingRenames: [(tmp: String, final: String, rel: String, id: ObjectID?)] = []
    private var pendingRemovals: [String] = []
    private var pendingDirectories: [(tmp: String, final: String)] = []
    private var directWrites: [(rel: String, id: ObjectID)] = []
    /// One written file per file system, for syncfs.
    private var syncFDs: [UInt64: FileHandleFD] = [:]
    /// Files written so far, kept open to fsync each when there are few; past
    /// `fsyncLimit` one syncfs covers them all.
    private var written: [FileHandleFD] = []
    static let fsyncLimit = 16
    /// Bytes written, and how many of them came from the old working file.
    private(set) var bytesWritten: UInt64 = 0
    private(set) var bytesReused: UInt64 = 0
    private(set) var filesWritten = 0
    /// (what, bytes done, bytes total) while a big file is written.
    var progress: ((String, UInt64, UInt64) -> Void)?
    /// The working tree whose folders every write, rename and removal is checked against
    /// (no symlink on the way; see WorkTree), right before it happens. Nil for restores into
    /// mlv's own temporary folders.
    var tree: WorkTree?
    /// Removals `finish()` left undone because a folder above them had become a symlink (or
    /// a file): whatever stood there is gone from that path already, and going through the
    /// link would reach something else.
    private(set) var skippedRemovals: [String] = []

    static let batchBytes = Sink.batchBytes         // bytes decoded per parallel step
    static let writebackStep = Sink.writebackStep   // bytes between write-back requests
    static let directThreshold: UInt64 = 64 << 20   // files at least this big bypass the page cache

    init(store: Store) throws {
        try store.loadIndex()   // every chunk is looked up, from several threads
        self.store = store
        readers = (0..<workerCount).map { _ in ChunkReader(store: store) }
    }

    /// Where the old content of a file can be read from.
    struct Reuse {
        let file: FileHandleFD
        let offsets: [ObjectID: UInt64]
        /// The stat the cache vouched for; checked again after copying, so a file changed
        /// while it was being copied is caught.
        let expected: FileStat

        init?(path: String, manifest: FileManifest, stat: FileStat) {
            guard let f = try? FileHandleFD.openRead(path), let st = try? f.stat(), FileStat(st) == stat else { return nil }
            expected = stat
            var map: [ObjectID: UInt64] = [:]
            var off: UInt64 = 0
            for c in manifest.chunks {
                if map[c.id] == nil { map[c.id] = off }
                off += UInt64(c.length)
            }
            file = f
            offsets = map
        }
    }

    /// Writes a file's content to a temporary file next to `abs`, to be renamed by `finish()`.
    /// With `direct`, `abs` lies inside a folder that is itself being built under a temporary
    /// name, so the file is written in place.
    /// `size`: what the tree entry (or pointer) says the file holds; a manifest describing more
    /// is refused, so a snapshot's declared size bounds what a checkout writes.
    func writeFile(_ manifestID: ObjectID, to abs: String, rel: String, executable: Bool, reuse: Reuse?,
                   direct: Bool = false, size: UInt64? = nil) throws {
        let manifest = try store.manifest(manifestID)
        try tree?.checkParents(abs)
        if let size, manifest.size != size {
            throw ObjectError.corrupt(id: manifestID, type: .file, why: "\(rel) is listed with \(counted(size, "byte")), its manifest has \(manifest.size)")
        }
        let tmp = direct ? abs : FS.tempPath(for: abs)
        let f = try FileHandleFD.create(tmp, mode: executable ? 0o755 : 0o644)
        if direct { directWrites.append((rel, manifestID)) } else { pendingRenames.append((tmp, abs, rel, manifestID)) }
        if fchmod(f.fd, executable ? 0o755 : 0o644) != 0 { throw IOError("chmod", tmp) }
        if manifest.size > 0 { try fill(f, manifest, reuse: reuse, label: "writing \(rel)") }
        if let r = reuse, let st = try? r.file.stat(), FileStat(st) != r.expected {
            throw IOError("read (it changed while being copied; run the command again)", r.file.path, code: EIO)
        }
        if let st = try? f.stat(), syncFDs[UInt64(st.st_dev)] == nil { syncFDs[UInt64(st.st_dev)] = f }
        if written.count <= Restorer.fsyncLimit { written.append(f) }
        filesWritten += 1
    }

    /// Writes a file's bytes to `f` in order, through a 16 MiB staging buffer.
    ///
    /// Runs of chunks that lie back to back in the old working file come from that file: its
    /// stat still matches the cache, the same trust `status` places in it (and it is checked
    /// again after copying). Everything else is read from the store in batches, decompressed
    /// and SHA-256-verified on all cores, straight into the staging buffer.
    ///
    /// Big files are written with O_DIRECT when the file system allows: the data goes to disk
    /// without first being copied into freshly allocated page-cache pages, which on this kind
    /// of virtual machine costs more than the disk itself (and the final fsync then finds
    /// little left to do). Smaller files are written through the page cache, and reused runs
    /// are copied inside the kernel (copy_file_range).
    func fill(_ f: FileHandleFD, _ manifest: FileManifest, reuse: Reuse?, label: String? = nil) throws {
        let chunks = manifest.chunks
        let report = manifest.size >= 64 << 20 ? label.flatMap { l in progress.map { p in { p(l, $0, manifest.size) } } } : nil
        let sink = try Sink(f, direct: manifest.size >= Restorer.directThreshold)
        var position: UInt64 = 0
        var start = 0
        while start < chunks.count {
            if let r = reuse, let off = r.offsets[chunks[start].id] {
                var length = UInt64(chunks[start].length)
                var end = start + 1
                while end < chunks.count, let o = r.offsets[chunks[end].id], o == off + length {
                    length += UInt64(chunks[end].length)
                    end += 1
                }
                try sink.copy(from: r.file, at: off, count: length) { position += $0; report?(position) }
                bytesWritten += length
                bytesReused += length
                start = end
                continue
            }
            // One batch from the store: what fits the staging buffer, at least one chunk,
            // ending before the next chunk the old file can provide.
            var end = start
            var bytes = 0
            var offsets: [Int] = []
            while end < chunks.count && (end == start || (bytes + Int(chunks[end].length) <= Restorer.batchBytes
                                                          && reuse?.offsets[chunks[end].id] == nil)) {
                offsets.append(bytes)
                bytes += Int(chunks[end].length)
                end += 1
            }
            var locs: [Location] = []
            for i in start..<end {
                guard let loc = try store.location(of: chunks[i].id) else { throw StoreError.missingObject(chunks[i].id, type: .chunk) }
                guard loc.rawLength == chunks[i].length else {
                    throw ObjectError.corrupt(id: chunks[i].id, type: .chunk, why: "the manifest says \(counted(chunks[i].length, "byte")), the index \(loc.rawLength)")
                }
                locs.append(loc)
            }
            let out = SendableBox(try sink.reserve(bytes))
            let ctx = SendableBox((chunks: chunks, start: start, offsets: offsets, locs: locs,
                                   readers: readers))
            let failure = Mutex<(any Error)?>(nil)
            let next = Mutex(0)
            let n = end - start
            parallel(min(readers.count, n)) { w in
                while true {
                    let j = next.withLock { k in
                        defer { k += 1 }
                        return k
                    }
                    if j >= n { break }
                    let c = ctx.value.chunks[ctx.value.start + j]
                    let loc = ctx.value.locs[j]
                    let slot = UnsafeMutableRawBufferPointer(rebasing: out.value[ctx.value.offsets[j]..<(ctx.value.offsets[j] + Int(c.length))])
                    do {
                        try ctx.value.readers[w].read(c.id, at: loc, into: slot)
                    } catch {
                        failure.withLock { $0 = $0 ?? error }
                    }
                }
            }
            if let e = failure.withLock({ $0 }) { throw e }
            try sink.commit(bytes)
            bytesWritten += UInt64(bytes)
            position += UInt64(bytes)
            report?(position)
            start = end
        }
        try sink.finish()
    }

    /// Creates a symlink under a temporary name, to be renamed by `finish()`.
    func writeSymlink(_ id: ObjectID, to abs: String, rel: String, direct: Bool = false) throws {
        let target = try store.readObject(id, type: .chunk)
        guard target.count <= TreeLimits.maxLinkBytes, let s = String(validating: target, as: UTF8.self), !s.contains("\0") else {
            throw ObjectError.corrupt(id: id, type: .chunk, why: "symlink target is not a valid path")
        }
        try tree?.checkParents(abs)
        let tmp = direct ? abs : FS.tempPath(for: abs)
        if symlink(s, tmp) != 0 { throw IOError("symlink", tmp) }
        if !direct { pendingRenames.append((tmp, abs, rel, nil)) }
    }

    /// Swaps a folder built under a temporary name in for whatever is at `final`, in `finish()`.
    func renameDirectory(_ tmp: String, to final: String) { pendingDirectories.append((tmp, final)) }

    /// Removes `abs` (a file or folder the new version does not have) in `finish()`.
    func remove(_ abs: String) { pendingRemovals.append(abs) }

    /// Makes everything written durable, then renames it into place. Returns the
    /// repository-relative paths of the regular files now in place, with their manifests.
    func finish() throws -> [(rel: String, id: ObjectID)] {
        if written.count > Restorer.fsyncLimit || !directWrites.isEmpty || !pendingDirectories.isEmpty {
            for f in syncFDs.values { try FS.syncFilesystem(of: f) }
            if syncFDs.isEmpty, let f = try? FileHandleFD.openRead(pendingDirectories.first?.tmp ?? ".") {
                try FS.syncFilesystem(of: f)
            }
        } else {
            for f in written { try f.sync() }
        }
        syncFDs = [:]
        written = []
        var done: [(String, ObjectID)] = []
        var dirs = Set<String>()
        // Between planning and now, a git checkout may have replaced a folder with a link:
        // every path is checked again right before it is touched.
        for abs in pendingRemovals {
            if let t = tree {
                do { try t.checkParents(abs) } catch {
                    skippedRemovals.append(t.relative(abs) ?? abs)
                    continue
                }
            }
            try FS.removeTree(abs)
            dirs.insert(FS.dirname(abs))
        }
        pendingRemovals = []
        for (tmp, final, rel, id) in pendingRenames {
            try tree?.checkParents(final)
            if let st = FS.lstat(final), st.st_mode & S_IFMT == S_IFDIR { try FS.removeTree(final) }
            try FS.rename(tmp, final)
            dirs.insert(FS.dirname(final))
            if let id { done.append((rel, id)) }
        }
        for (tmp, final) in pendingDirectories {
            try tree?.checkParents(final)
            if FS.lstat(final) != nil { try FS.removeTree(final) }
            try FS.rename(tmp, final)
            dirs.insert(FS.dirname(final))
        }
        pendingDirectories = []
        done += directWrites
        directWrites = []
        pendingRenames = []
        for d in dirs { try FS.syncDirectory(d) }
        return done
    }

    /// Removes the temporary files of an aborted restore.
    func abandon() {
        for (tmp, _, _, _) in pendingRenames { FS.remove(tmp) }
        for (tmp, _) in pendingDirectories { try? FS.removeTree(tmp) }
        written = []
        syncFDs = [:]
        pendingRenames = []
        pendingRemovals = []
        pendingDirectories = []
        directWrites = []
    }
}

