import MLVSystem
import Glibc
import MLVStore

/// What mlv last saw of each working file it read or wrote: size, mtime and ctime in ns,
/// inode, and the file's manifest id. A file whose stat still matches is not read again, so
/// `status` and `commit` on unchanged data cost one lstat per file.
///
/// It also remembers, per target, the snapshot the working copy held when mlv last wrote or
/// committed it ("synced"): the base that tells a user's edit from a pointer that moved.
///
/// And per target a "verified" snapshot: the content the target had when every entry below
/// it was last recorded by a full pass (commit, or a status that had to read). While all
/// those entries still match — directories included, whose mtime changes when a name is
/// added, removed or renamed in them — the target still holds that snapshot, and status
/// needs one lstat per entry and no directory listing, sorting or hashing.
///
/// Racy timestamps are handled as git does: an entry whose mtime is not safely before the
/// moment the cache was written may have changed again within the same clock tick, so it is
/// not trusted and the file is read.
///
/// Format (`.mlv/state/stat-cache`, little-endian, a cache: unreadable means empty):
///   "MLVSTAT\0" | u32 version (1) | u32 targets | u32 entries | i64 saved-at (ns)
///   targets x (u16 length | path | 32 synced snapshot id | 32 verified snapshot id, zeros for none)
///   entries x (u16 length | path | u64 size | i64 mtime ns | i64 ctime ns | u64 inode | u32 mode | 32 id)
///   (entries cover files, directories and symlinks; id is a file's manifest, a symlink's
///   target chunk, zeros for a directory)
public struct FileStat: Equatable, Sendable {
    public var size: UInt64
    public var mtime: Int64   // ns
    public var ctime: Int64   // ns
    public var inode: UInt64
    public var mode: UInt32

    public init(size: UInt64, mtime: Int64, ctime: Int64, inode: UInt64, mode: UInt32) {
        self.size = size
        self.mtime = mtime
        self.ctime = ctime
        self.inode = inode
        self.mode = mode
    }

    public init(_ st: stat) {
        size = UInt64(st.st_size)
        mtime = nanoseconds(st.st_mtim)
        ctime = nanoseconds(st.st_ctim)
        inode = UInt64(st.st_ino)
        mode = UInt32(st.st_mode)
    }

    public var isExecutable: Bool { mode & 0o100 != 0 }

    /// The later of mtime and ctime: tools that restore an mtime (rsync -t, tar x) still
    /// move ctime, so racy checks look at both.
    var changed: Int64 { max(mtime, ctime) }

    /// File systems that keep whole seconds (FAT, some network file systems) need a window of
    /// a whole tick, not the 20 ms that nanosecond clocks need.
    var racyWindow: Int64 {
        mtime % 1_000_000_000 == 0 && ctime % 1_000_000_000 == 0 ? 2_000_000_000 : StatCache.racyWindow
    }
}

/// Nanoseconds since the epoch, saturating instead of trapping on absurd dates.
func nanoseconds(_ t: timespec) -> Int64 {
    let (s, o) = Int64(t.tv_sec).multipliedReportingOverflow(by: 1_000_000_000)
    if o { return t.tv_sec < 0 ? Int64.min / 2 : Int64.max / 2 }
    return s + Int64(t.tv_nsec)
}

public struct StatCache {
    public struct Entry: Equatable, Sendable {
        public var stat: FileStat
        public var manifest: ObjectID
    }

    public var entries: [String: Entry] = [:]
    public var synced: [String: ObjectID] = [:]
    public var verified: [String: ObjectID] = [:]
    private var savedAt: Int64 = 0
    /// Files whose cached stat could not be trusted and had to be read (for `status --json`).
    public var misses = 0
    public var hits = 0

    /// Timestamps closer than this to the cache's write time are racy (covers the kernel's
    /// coarse file-time clock, which lags the real clock by up to one tick).
    static let racyWindow: Int64 = 20_000_000 // ns

    static let magic: [UInt8] = Array("MLVSTAT\0".utf8)

    public init() {}

    public static func load(path: String) -> StatCache {
        guard let bytes = try? FS.readAll(path) else { return StatCache() }
        return (try? StatCache(decoding: bytes)) ?? StatCache()
    }

    init(decoding bytes: [UInt8]) throws {
        struct Bad: Error {}
        var r = ByteReader(bytes)
        guard let m = r.readBytes(8), Array(m) == StatCache.magic, r.read(UInt32.self) == 1,
              let tc = r.read(UInt32.self), let ec = r.read(UInt32.self), let at = r.read(Int64.self),
              Int(tc) <= r.remaining / 66, Int(ec) <= r.remaining / 70, at > 0, at < Int64.max / 2 else { throw Bad() }
        savedAt = at
        func path() throws -> String {
            guard let n = r.read(UInt16.self), let b = r.readBytes(Int(n)), let s = String(validating: b, as: UTF8.self) else { throw Bad() }
            return s
        }
        let none = ObjectID(bytes: [UInt8](repeating: 0, count: 32))!
        for _ in 0..<tc {
            let p = try path()
            guard let id = r.readID(), let v = r.readID() else { throw Bad() }
            if id != none { synced[p] = id }
            if v != none { verified[p] = v }
        }
        entries.reserveCapacity(Int(ec))
        for _ in 0..<ec {
            let p = try path()
            guard let size = r.read(UInt64.self), let mt = r.read(Int64.self), let ct = r.read(Int64.self),
                  let ino = r.read(UInt64.self), let mode = r.read(UInt32.self), let id = r.readID() else { throw Bad() }
            entries[p] = Entry(stat: FileStat(size: size, mtime: mt, ctime: ct, inode: ino, mode: mode), manifest: id)
        }
    }

    /// The manifest id of `path` if its stat is unchanged since it was recorded and not racy.
    public mutating func lookup(_ path: String, _ st: FileStat) -> ObjectID? {
        if let e = entries[path], e.stat == st, st.changed < savedAt - st.racyWindow {
            hits += 1
            return e.manifest
        }
        misses += 1
        return nil
    }

    public mutating func record(_ path: String, _ st: FileStat, manifest: ObjectID) {
        entries[path] = Entry(stat: st, manifest: manifest)
    }

    /// Forgets every entry at or below `target`.
    public mutating func forget(target: String) {
        synced[target] = nil
        verified[target] = nil
        entries = entries.filter { !RepoPath.isWithin($0.key, target) }
    }

    /// True when the entry's stat still matches and is not racy (directories and symlinks
    /// too; a fast-path check that does not count as a hit or miss).
    func stillMatches(_ path: String, _ st: FileStat) -> Bool {
        guard let e = entries[path] else { return false }
        return e.stat == st && st.changed < savedAt - st.racyWindow
    }

    /// Writes the cache (temp file + rename; no fsync: losing it only costs a re-read).
    public mutating func save(path: String) throws {
        // Files mlv just wrote or read carry mtimes of a moment ago. Waiting out the racy
        // window (at most 20 ms) before stamping the cache lets the next run trust them
        // instead of reading them all again.
        let newest = entries.values.reduce(Int64.min) { $1.stat.racyWindow == StatCache.racyWindow ? max($0, $1.stat.changed) : $0 }
        var now = realtimeNanoseconds()
        if newest != Int64.min && now - newest < StatCache.racyWindow + 1_000_000 {
            let wait = StatCache.racyWindow + 1_000_000 - (now - newest)
            if wait < 100_000_000 { usleep(useconds_t(wait / 1000)) }   // a future mtime is not waited for
            now = realtimeNanoseconds()
        }
        savedAt = now
        var out = StatCache.magic
        out.appendLE(UInt32(1))
        let targets = Set(synced.keys).union(verified.keys).sorted()
        out.appendLE(UInt32(targets.count))
        out.appendLE(UInt32(entries.count))
        out.appendLE(savedAt)
        let none = [UInt8](repeating: 0, count: 32)
        for p in targets {
            let b = Array(p.utf8)
            out.appendLE(UInt16(b.count))
            out.append(contentsOf: b)
            out.append(contentsOf: synced[p]?.bytes ?? none)
            out.append(contentsOf: verified[p]?.bytes ?? none)
        }
        for (p, e) in entries {
            let b = Array(p.utf8)
            out.appendLE(UInt16(b.count))
            out.append(contentsOf: b)
            out.appendLE(e.stat.size)
            out.appendLE(e.stat.mtime)
            out.appendLE(e.stat.ctime)
            out.appendLE(e.stat.inode)
            out.appendLE(e.stat.mode)
            out.append(contentsOf: e.manifest.bytes)
        }
        try FS.atomicWrite(out, to: path, durable: false)
    }
}

func realtimeNanoseconds() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
}
