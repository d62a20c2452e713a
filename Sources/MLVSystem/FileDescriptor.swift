// FileHandleFD: an owned POSIX file descriptor with EINTR-safe reads and writes.
#if canImport(Glibc)
import Glibc
#endif

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
