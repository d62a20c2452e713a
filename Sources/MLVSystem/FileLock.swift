import Glibc

/// The repository's writer lock: `flock(2)` on a file. The kernel releases it when the holder
/// exits or is killed, so a crash never leaves a lock that blocks the next command. The file
/// holds the holder's pid and command only to say who is waiting for whom.
public final class StoreLock {
    private let fd: Int32
    public let path: String

    /// Takes the exclusive lock, waiting for a current holder after telling `waiting` who it is.
    public init(path: String, what: String, waiting: (String) -> Void = { _ in }) throws {
        self.path = path
        // O_NOFOLLOW and a regular-file check: the lock file is truncated below, so a link
        // planted at its path must not lead that write to another file.
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0o644)
        if fd < 0 { throw IOError("open lock", path) }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG else {
            close(fd)
            throw IOError("open lock (not a regular file)", path, code: EINVAL)
        }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            guard errno == EWOULDBLOCK else {
                let e = IOError("lock", path)
                close(fd)
                throw e
            }
            let holder = (try? FS.readAll(path)).map { String(decoding: $0, as: UTF8.self) } ?? ""
            waiting(holder.isEmpty ? "another mlv process" : holder.trimmed)
            while flock(fd, LOCK_EX) != 0 {
                if errno == EINTR { continue }
                let e = IOError("lock", path)
                close(fd)
                throw e
            }
        }
        let note = Array("pid \(getpid()) (mlv \(what))\n".utf8)
        ftruncate(fd, 0)
        _ = note.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
    }

    deinit {
        ftruncate(fd, 0)
        flock(fd, LOCK_UN)
        close(fd)
    }
}
