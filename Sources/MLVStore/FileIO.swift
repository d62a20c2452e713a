// Thin POSIX file helpers. Foundation's FileManager is avoided on hot paths: it allocates per
// call and hides errno, which the error messages need.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An I/O failure with the path and the operation, rendered as one line.
public struct IOError: Error, CustomStringConvertible, Equatable {
    public let op: String
    public let path: String
    public let code: Int32

    public init(_ op: String, _ path: String, code: Int32 = Glibc.errno) {
        self.op = op
        self.path = path
        self.code = code
    }

    /// The operation of a refusal by `openRead(regularOnly:followLinks:)`.
    public static let notRegularOp = "open (not a regular file)"
    /// True for a path that was not a regular file (or was a link, where links are refused).
    public var isNotRegularFile: Bool { op == IOError.notRegularOp }

    public var description: String {
        let why = String(cString: strerror(code))
        if code == ENOSPC { return "\(path): \(op) failed: \(why) (free some disk space and run the command again)" }
        return "\(path): \(op) failed: \(why)"
    }
}

/// An open file descriptor, closed when the value is released.
public final class FileHandleFD: Sendable {
    public let fd: Int32
    public let path: String

    public init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
    }

    /// Opens `path` for reading. With `regularOnly`, anything but a regular file (a FIFO, a
    /// device, a folder) is refused without blocking: a FIFO planted where a file should be
    /// would otherwise hang `open` until someone writes to it (`O_NONBLOCK` for the open,
    /// cleared once fstat shows a regular file). With `followLinks: false` a symlink at `path`
    /// is refused the same way (`O_NOFOLLOW`). Both refusals are `IOError.isNotRegularFile`.
    public static func openRead(_ path: String, regularOnly: Bool = false, followLinks: Bool = true) throws -> FileHandleFD {
        let fd = open(path, O_RDONLY | O_CLOEXEC | (regularOnly ? O_NONBLOCK : 0) | (followLinks ? 0 : O_NOFOLLOW))
        if fd < 0 {
            if !followLinks && errno == ELOOP { throw IOError(IOError.notRegularOp, path, code: ELOOP) }
            throw IOError("open", path)
        }
        let f = FileHandleFD(fd: fd, path: path)
        if regularOnly {
            guard try f.stat().st_mode & S_IFMT == S_IFREG else { throw IOError(IOError.notRegularOp, path, code: EINVAL) }
            let flags = fcntl(fd, F_GETFL)
            if flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0 { throw IOError("fcntl", path) }
        }
        return f
    }

    /// Creates a new file that must not exist yet (`O_EXCL`), mode 0644 before the umask.
    public static func create(_ path: String, mode: mode_t = 0o644) throws -> FileHandleFD {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        if fd < 0 { throw IOError("create", path) }
        return FileHandleFD(fd: fd, path: path)
    }

    deinit { close(fd) }

    /// Reads up to `count` bytes at `offset`, retrying short reads; fewer means end of file.
    public func pread(into buf: UnsafeMutableRawBufferPointer, at offset: UInt64) throws -> Int {
        try fillLoop(buf) { Glibc.pread(fd, $0, $1, off_t(offset) + off_t($2)) }
    }

    /// Reads sequentially from the current position, filling `buf` unless the file ends.
    public func read(into buf: UnsafeMutableRawBufferPointer) throws -> Int {
        try fillLoop(buf) { p, n, _ in Glibc.read(fd, p, n) }
    }

    /// Calls `op(destination, count, done)` until `buf` is full or it returns 0 (end of
    /// file), retrying EINTR. Returns the bytes read.
    private func fillLoop(_ buf: UnsafeMutableRawBufferPointer, _ op: (UnsafeMutableRawPointer, Int, Int) -> Int) throws -> Int {
        var done = 0
        while done < buf.count {
            let n = op(buf.baseAddress! + done, buf.count - done, done)
            if n < 0 {
                if errno == EINTR { continue }
                throw IOError("read", path)
            }
            if n == 0 { break }
            done += n
        }
        return done
    }

    public func write(_ buf: UnsafeRawBufferPointer) throws {
        var done = 0
        while done < buf.count {
            let n = Glibc.write(fd, buf.baseAddress! + done, buf.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                throw IOError("write", path)
            }
            done += n
        }
    }

    public func write(_ bytes: [UInt8]) throws { try bytes.withUnsafeBytes { try write($0) } }

    public func sync() throws {
        if fsync(fd) != 0 { throw IOError("fsync", path) }
    }

    public func stat() throws -> stat {
        var st = Glibc.stat()
        if fstat(fd, &st) != 0 { throw IOError("stat", path) }
        return st
    }
}

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

    /// A temporary path next to `path` (same directory, so the final rename is atomic).
    public static func tempPath(for path: String) -> String {
        let dir = dirname(path)
        let base = basename(path)
        return (dir.isEmpty ? "" : dir + "/") + ".\(base).mlv-tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    }

    /// Writes `bytes` to `path` atomically: temp file in the same directory, fsync, rename,
    /// fsync of the directory. Readers see the old content or the new, never a mix.
    public static func atomicWrite(_ bytes: [UInt8], to path: String, mode: mode_t = 0o644) throws {
        let tmp = tempPath(for: path)
        do {
            let f = try FileHandleFD.create(tmp, mode: mode)
            try f.write(bytes)
            try f.sync()
            if fchmod(f.fd, mode) != 0 { throw IOError("chmod", tmp) }
            try rename(tmp, path)
        } catch {
            unlink(tmp)
            throw error
        }
        try syncDirectory(dirname(path).isEmpty ? "." : dirname(path))
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

/// Little-endian integer encoding helpers for the binary formats.
public extension Array where Element == UInt8 {
    mutating func appendLE<T: FixedWidthInteger>(_ v: T) {
        Swift.withUnsafeBytes(of: v.littleEndian) { append(contentsOf: $0) }
    }
}

/// A bounds-checked little-endian reader over bytes: every read returns nil past the end,
/// so decoders of untrusted bytes never trap. Inlinable so that callers in other modules get
/// specialized code (the stat cache decodes tens of thousands of entries per command).
public struct ByteReader {
    public let bytes: [UInt8]
    public var offset: Int = 0

    @inlinable public init(_ bytes: [UInt8]) { self.bytes = bytes }

    @inlinable public var remaining: Int { bytes.count - offset }

    @inlinable public mutating func read<T: FixedWidthInteger>(_: T.Type) -> T? {
        let size = MemoryLayout<T>.size
        guard remaining >= size else { return nil }
        let v = bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: T.self) }
        offset += size
        return T(littleEndian: v)
    }

    @inlinable public mutating func readBytes(_ n: Int) -> ArraySlice<UInt8>? {
        guard n >= 0, remaining >= n else { return nil }
        defer { offset += n }
        return bytes[offset..<offset + n]
    }

    @inlinable public mutating func readID() -> ObjectID? {
        guard remaining >= 32 else { return nil }
        defer { offset += 32 }
        return bytes.withUnsafeBytes { ObjectID(bytes: $0.baseAddress! + offset) }
    }
}

public extension StringProtocol {
    /// The string without leading and trailing spaces, tabs and line breaks.
    var trimmed: String {
        let ws: Set<Character> = [" ", "\t", "\n", "\r"]
        guard let a = firstIndex(where: { !ws.contains($0) }), let b = lastIndex(where: { !ws.contains($0) }) else { return "" }
        return String(self[a...b])
    }
}

@_silgen_name("syncfs")
private func c_syncfs(_ fd: Int32) -> Int32

@_silgen_name("sync_file_range")
private func c_sync_file_range(_ fd: Int32, _ offset: Int64, _ nbytes: Int64, _ flags: UInt32) -> Int32

@_silgen_name("copy_file_range")
private func c_copy_file_range(_ fdIn: Int32, _ offIn: UnsafeMutablePointer<Int64>?, _ fdOut: Int32,
                               _ offOut: UnsafeMutablePointer<Int64>?, _ len: Int, _ flags: UInt32) -> Int
