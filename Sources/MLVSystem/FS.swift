// Thin POSIX file helpers. Foundation's FileManager is avoided on hot paths: it allocates per
// call and hides errno, which the error messages need.
#if canImport(Glibc)
import Glibc
#endif

public enum FS {
    public static func exists(_ path: String) -> Bool {
        var st = stat()
        return Glibc.lstat(path, &st) == 0
    }

    public static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    public static func lstat(_ path: String) -> stat? {
        var st = stat()
        return Glibc.lstat(path, &st) == 0 ? st : nil
    }

    /// `mkdir -p`.
    public static func makeDirectories(_ path: String, mode: mode_t = 0o755) throws {
        if isDirectory(path) { return }
        let parent = dirname(path)
        if parent != path && !parent.isEmpty { try makeDirectories(parent, mode: mode) }
        if mkdir(path, mode) != 0 && errno != EEXIST { throw IOError("mkdir", path) }
    }

    /// fsync of a directory, so that a rename inside it survives a crash.
    public static func syncDirectory(_ path: String) throws {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd < 0 { throw IOError("open", path) }
        defer { close(fd) }
        if fsync(fd) != 0 && errno != EINVAL { throw IOError("fsync", path) }
    }

    /// `syncfs(2)`: flushes every file of the file system holding `f`, one call for a
    /// whole checkout instead of one fsync per file.
    public static func syncFilesystem(of f: FileHandleFD) throws {
        if c_syncfs(f.fd) != 0 { throw IOError("syncfs", f.path) }
    }

    /// Asks the kernel to start writing `f` back now (`sync_file_range(SYNC_FILE_RANGE_WRITE)`),
    /// without waiting; a later fsync then has little left to wait for.
    public static func startWriteback(of f: FileHandleFD, from offset: UInt64 = 0, count: UInt64 = 0) {
        _ = c_sync_file_range(f.fd, Int64(offset), Int64(count), 2 /* SYNC_FILE_RANGE_WRITE */)
    }

    /// Appends `count` bytes of `src` starting at `offset` to `dst` (at its current position),
    /// copying inside the kernel (`copy_file_range`) where the file system allows, else
    /// through a buffer. Throws if `src` ends early (it changed underneath).
    public static func copyRange(from src: FileHandleFD, at offset: UInt64, count: UInt64, to dst: FileHandleFD) throws {
        var inOff = Int64(offset)
        var left = count
        while left > 0 {
            let n = c_copy_file_range(src.fd, &inOff, dst.fd, nil, Int(min(left, 1 << 30)), 0)
            if n > 0 { left -= UInt64(n); continue }
            if n == 0 { throw IOError("read (file shrank while being copied)", src.path, code: EIO) }
            if errno == EINTR { continue }
            if errno == EXDEV || errno == ENOSYS || errno == EINVAL || errno == EOPNOTSUPP { break }
            throw IOError("copy", src.path)
        }
        // Fallback: plain reads and writes.
        var buf = [UInt8](repeating: 0, count: min(Int(left), 8 << 20))
        while left > 0 {
            let want = Int(min(left, UInt64(buf.count)))
            let n = try buf.withUnsafeMutableBytes { try src.pread(into: UnsafeMutableRawBufferPointer(rebasing: $0[0..<want]), at: UInt64(inOff)) }
            if n < want { throw IOError("read (file shrank while being copied)", src.path, code: EIO) }
            try buf.withUnsafeBytes { try dst.write(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            inOff += Int64(n)
            left -= UInt64(n)
        }
    }

    /// Tells the kernel a range will be read once, in order (`posix_fadvise` SEQUENTIAL and
    /// WILLNEED): larger read-ahead when it has to come from disk.
    public static func adviseSequential(_ f: FileHandleFD, from offset: UInt64, count: UInt64) {
        _ = posix_fadvise(f.fd, off_t(offset), off_t(count), POSIX_FADV_SEQUENTIAL)
        _ = posix_fadvise(f.fd, off_t(offset), off_t(min(count, 64 << 20)), POSIX_FADV_WILLNEED)
    }

    public static func rename(_ from: String, _ to: String) throws {
        if Glibc.rename(from, to) != 0 { throw IOError("rename to \(to)", from) }
    }

    public static func remove(_ path: String) {
        unlink(path)
    }

    /// `rm -rf` without following symlinks.
    /// Iterative, so a folder nested 100,000 levels deep (a hostile checkout's leftovers, say)
    /// cannot overflow the stack: a folder is listed when first met and removed when met again
    /// after its contents.
    public static func removeTree(_ path: String) throws {
        var stack: [(path: String, listed: Bool)] = [(path, false)]
        while let (p, listed) = stack.popLast() {
            guard let st = FS.lstat(p) else { continue }
            if st.st_mode & S_IFMT != S_IFDIR {
                if unlink(p) != 0 && errno != ENOENT { throw IOError("remove", p) }
            } else if listed {
                if rmdir(p) != 0 && errno != ENOENT { throw IOError("rmdir", p) }
            } else {
                stack.append((p, true))
                for name in try FS.list(p) { stack.append((FS.join(p, name), false)) }
            }
        }
    }

    /// Scratch names, for what a command makes in a tmp/ folder (a store's, a spill folder):
    /// `KIND-PID-RANDOM` plus an optional suffix. The one form of them, so that cleanup tells
    /// them from anything else and knows which process made each (`scratchOwner`).
    public static func scratchName(_ kind: String, suffix: String = "") -> String {
        "\(kind)-\(getpid())-\(UInt64.random(in: 0...UInt64.max))\(suffix)"
    }

    /// The kind and process id of a name `scratchName` gave (or an older mlv's `KIND-PID.…` /
    /// `KIND-PID-…`), when its kind is one of `kinds`; nil for any other name.
    public static func scratchOwner(_ name: String, kinds: [String]) -> (kind: String, pid: Int32)? {
        for kind in kinds where name.hasPrefix(kind + "-") {
            let rest = name.dropFirst(kind.count + 1)
            let digits = rest.prefix { $0.isASCII && $0.isNumber }
            guard !digits.isEmpty, let pid = Int32(digits) else { return nil }
            let next = rest.dropFirst(digits.count).first
            guard next == nil || next == "-" || next == "." else { return nil }
            return (kind, pid)
        }
        return nil
    }

    /// True when no process `pid` exists (kill(2) with signal 0 says ESRCH). A process of
    /// another user still counts as existing.
    public static func processIsGone(_ pid: Int32) -> Bool { kill(pid, 0) != 0 && errno == ESRCH }

    /// Temporary files are `.NAME.mlv-tmp-PID-RANDOM` next to NAME (same directory, so the final
    /// rename is atomic). This is the one place that builds or recognises the form: a crashed
    /// writer's leftovers are found by `isTempName` and `tempPrefix(of:)`.
    static let tempMarker = ".mlv-tmp-"

    /// A temporary path next to `path`.
    public static func tempPath(for path: String) -> String {
        let dir = dirname(path)
        return (dir.isEmpty ? "" : dir + "/") + tempPrefix(of: basename(path)) + "\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    }

    /// The start of every temporary name `tempPath` makes for a file named `base`.
    public static func tempPrefix(of base: String) -> String { "." + base + tempMarker }

    /// True for a name `tempPath` made.
    public static func isTempName(_ name: String) -> Bool { name.hasPrefix(".") && name.contains(tempMarker) }

    /// Renames a complete, fsynced file `from` to `to` durably: `to`'s folder is made if
    /// missing (and then its parent fsynced, so the new folder's name survives a crash), and
    /// after the rename the folder is fsynced. Where a later write names this file (an index
    /// naming a pack), that write must not reach the disk first.
    public static func moveIntoPlace(_ from: String, to: String) throws {
        let dir = dirname(to).isEmpty ? "." : dirname(to)
        if !isDirectory(dir) {
            try makeDirectories(dir)
            try syncDirectory(dirname(dir).isEmpty ? "." : dirname(dir))
        }
        try rename(from, to)
        try syncDirectory(dir)
    }

    /// Writes `bytes` to `path` atomically: temp file in the same directory, fsync, rename,
    /// fsync of the directory. Readers see the old content or the new, never a mix; a failed
    /// write leaves no temporary file. `durable: false` skips both fsyncs, for caches that
    /// are rebuilt when lost (the rename still keeps readers from a half-written file).
    public static func atomicWrite(_ bytes: [UInt8], to path: String, mode: mode_t = 0o644, durable: Bool = true) throws {
        let tmp = tempPath(for: path)
        do {
            let f = try FileHandleFD.create(tmp, mode: mode)
            try f.write(bytes)
            if durable { try f.sync() }
            if fchmod(f.fd, mode) != 0 { throw IOError("chmod", tmp) }
            try rename(tmp, path)
        } catch {
            unlink(tmp)
            throw error
        }
        if durable { try syncDirectory(dirname(path).isEmpty ? "." : dirname(path)) }
    }

    public static func readAll(_ path: String) throws -> [UInt8] {
        let f = try FileHandleFD.openRead(path)
        let size = Int(try f.stat().st_size)
        var out = [UInt8](repeating: 0, count: size)
        let n = try out.withUnsafeMutableBytes { try f.pread(into: $0, at: 0) }
        if n < size { out.removeLast(size - n) }
        return out
    }

    /// Names in a directory (without "." and ".."), unsorted; empty if it does not exist.
    public static func list(_ path: String) throws -> [String] {
        guard let d = opendir(path) else {
            if errno == ENOENT { return [] }
            throw IOError("list", path)
        }
        defer { closedir(d) }
        var out: [String] = []
        while let e = readdir(d) {
            let name = withUnsafePointer(to: e.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name == "." || name == ".." { continue }
            out.append(name)
        }
        return out
    }

    /// Names in a directory with their types from `readdir` (`S_IFDIR`, `S_IFLNK`, …; nil
    /// where the file system does not say, and an `lstat` must), unsorted; empty if it does
    /// not exist.
    public static func listTyped(_ path: String) throws -> [(String, mode_t?)] {
        guard let d = opendir(path) else {
            if errno == ENOENT { return [] }
            throw IOError("list", path)
        }
        defer { closedir(d) }
        var out: [(String, mode_t?)] = []
        while let e = readdir(d) {
            let name = withUnsafePointer(to: e.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name == "." || name == ".." { continue }
            let type: mode_t?
            switch Int(e.pointee.d_type) {
            case Int(DT_DIR): type = S_IFDIR
            case Int(DT_LNK): type = S_IFLNK
            case Int(DT_REG): type = S_IFREG
            case Int(DT_UNKNOWN): type = nil
            default: type = S_IFIFO   // sockets, FIFOs, devices: "something else"
            }
            out.append((name, type))
        }
        return out
    }

    /// Names in a directory in byte order of their UTF-8 (the order trees use).
    public static func listSorted(_ path: String) throws -> [String] {
        try list(path).sorted(by: utf8Precedes)
    }

    public static func dirname(_ path: String) -> String {
        guard let i = path.lastIndex(of: "/") else { return "" }
        if i == path.startIndex { return "/" }
        return String(path[..<i])
    }

    public static func basename(_ path: String) -> String {
        guard let i = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: i)...])
    }

    public static func join(_ a: String, _ b: String) -> String {
        if a.isEmpty { return b }
        if b.isEmpty { return a }
        return a.hasSuffix("/") ? a + b : a + "/" + b
    }
}
