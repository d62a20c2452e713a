// Direct I/O for checkout's big files: a double-buffered O_DIRECT writer (Sink) and a reader
// of old working files that does not fill the page cache (DirectReader).
import Dispatch
#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// The staging buffers between decoded chunks and a file being written (the restorer in MLVCore fills them).
///
/// In direct mode there are two: while one is written to disk (an O_DIRECT write blocks until
/// the device has the data), the next is filled, from the store or from the old file, which
/// may itself have to come from disk. Reading and writing then overlap instead of taking turns.
///
/// A buffer holds a batch plus an unaligned tail. One chunk may be bigger than a batch (the
/// format allows objects up to 256 MiB, though mlv's own chunker never cuts one over 256 KiB):
/// then the buffer being filled grows to fit it, and stays that size.
public final class Sink {
    public static let batchBytes = 16 * 1024 * 1024        // bytes decoded per parallel step by callers
    public static let writebackStep: UInt64 = 64 << 20     // bytes between write-back requests
    public static let capacity = Sink.batchBytes + 4096 * 2   // bytes per buffer at first: a batch plus an unaligned tail
    public static let alignment = 4096                            // O_DIRECT's buffer, size and offset unit

    public let f: FileHandleFD
    public private(set) var direct: Bool
    private var buf: UnsafeMutableRawBufferPointer         // being filled
    private var spare: UnsafeMutableRawBufferPointer?      // being written, or free (direct mode)
    private var count = 0                  // staged bytes not yet written
    private var flushed: UInt64 = 0        // bytes handed to the file
    private var writebackFrom: UInt64 = 0  // buffered mode: start of the range not yet sent to disk
    private let writer = DispatchQueue(label: "mlv.sink")
    private let idle = DispatchSemaphore(value: 1)
    private let failure = Mutex<(any Error)?>(nil)

    public init(_ f: FileHandleFD, direct wantDirect: Bool) throws {
        self.f = f
        buf = UnsafeMutableRawBufferPointer.allocate(byteCount: Sink.capacity, alignment: Sink.alignment)
        direct = false
        if wantDirect {
            let flags = fcntl(f.fd, F_GETFL)
            // Not every file system takes O_DIRECT (tmpfs does not): then write as usual.
            direct = flags >= 0 && fcntl(f.fd, F_SETFL, flags | oDirect) == 0
        }
        if direct { spare = UnsafeMutableRawBufferPointer.allocate(byteCount: Sink.capacity, alignment: Sink.alignment) }
    }

    deinit {
        idle.wait()      // never free a buffer the writer still uses
        idle.signal()
        buf.deallocate()
        spare?.deallocate()
    }

    /// Room for `n` more bytes, flushing what is staged if needed.
    public func reserve(_ n: Int) throws -> UnsafeMutableRawBufferPointer {
        if count + n > buf.count { try flush() }
        if count + n > buf.count {
            // Only `buf` grows: the writer thread may still be writing `spare`. What flush()
            // left staged (an unaligned tail) moves along.
            let a = Sink.alignment
            let bigger = UnsafeMutableRawBufferPointer.allocate(byteCount: (count + n + a - 1) / a * a + a, alignment: a)
            if count > 0 { bigger.baseAddress!.copyMemory(from: buf.baseAddress!, byteCount: count) }
            buf.deallocate()
            buf = bigger
        }
        return UnsafeMutableRawBufferPointer(rebasing: buf[count..<(count + n)])
    }

    public func commit(_ n: Int) throws {
        count += n
        if count + Sink.batchBytes > buf.count { try flush() }
    }

    /// Appends `total` bytes of `src` from `offset`, calling `progress` with each piece's size.
    public func copy(from src: FileHandleFD, at offset: UInt64, count total: UInt64, progress: (UInt64) -> Void) throws {
        var done: UInt64 = 0
        if !direct {
            try flush(all: true)
            while done < total {
                let piece = min(total - done, Sink.writebackStep)
                try FS.copyRange(from: src, at: offset + done, count: piece, to: f)
                done += piece
                flushed += piece
                startWriteback()
                progress(piece)
            }
            return
        }
        let reader = DirectReader(src)
        while done < total {
            let piece = Int(min(total - done, UInt64(Sink.batchBytes)))
            let slot = try reserve(piece)
            try reader.read(into: slot, at: offset + done)
            try commit(piece)
            done += UInt64(piece)
            progress(UInt64(piece))
        }
    }

    /// Writes the staged bytes: in direct mode only whole 4 KiB blocks unless `all`, on the
    /// writer thread, while filling goes on in the other buffer.
    private func flush(all: Bool = false) throws {
        guard direct, let other = spare else {
            if count > 0 { try f.write(UnsafeRawBufferPointer(rebasing: buf[0..<count])) }
            flushed += UInt64(count)
            count = 0
            startWriteback()
            return
        }
        let aligned = count - count % Sink.alignment
        idle.wait()                          // the other buffer is free once its write is done
        if let e = failure.withLock({ $0 }) { idle.signal(); throw e }
        let tail = count - aligned
        if tail > 0 { other.baseAddress!.copyMemory(from: buf.baseAddress! + aligned, byteCount: tail) }
        let full = SendableBox(UnsafeRawBufferPointer(rebasing: buf[0..<aligned]))
        let me = SendableBox(self)   // the sink outlives the write: deinit waits for `idle`
        writer.async {
            do { if full.value.count > 0 { try me.value.f.write(full.value) } } catch {
                me.value.failure.withLock { $0 = $0 ?? error }
            }
            me.value.idle.signal()
        }
        flushed += UInt64(aligned)
        spare = buf
        buf = other
        count = tail
        guard all else { return }
        idle.wait()
        idle.signal()
        if let e = failure.withLock({ $0 }) { throw e }
        if count > 0 {
            // The unaligned end of the file goes through the page cache.
            let flags = fcntl(f.fd, F_GETFL)
            if flags < 0 || fcntl(f.fd, F_SETFL, flags & ~oDirect) != 0 { throw IOError("fcntl", f.path) }
            direct = false
            try f.write(UnsafeRawBufferPointer(rebasing: buf[0..<count]))
            flushed += UInt64(count)
            count = 0
        }
    }

    /// Buffered mode: asks the kernel to start writing what has piled up, so the final
    /// fsync has little left to wait for.
    private func startWriteback() {
        if flushed - writebackFrom >= Sink.writebackStep {
            FS.startWriteback(of: f, from: writebackFrom, count: flushed - writebackFrom)
            writebackFrom = flushed
        }
    }

    public func finish() throws { try flush(all: true) }
}

/// Reads ranges of the old working file without filling the page cache: what is cached is
/// copied from the cache (preadv2 with RWF_NOWAIT fails instead of waiting for the disk), the
/// rest is read with O_DIRECT through an aligned bounce buffer. Falls back to plain reads
/// where O_DIRECT is not available.
public final class DirectReader {
    public let src: FileHandleFD
    private var directFD: Int32 = -2            // -2: not opened yet, -1: unavailable
    private var bounce: UnsafeMutableRawBufferPointer?

    public init(_ src: FileHandleFD) { self.src = src }

    deinit {
        if directFD >= 0 { close(directFD) }
        bounce?.deallocate()
    }

    public func read(into slot: UnsafeMutableRawBufferPointer, at offset: UInt64) throws {
        var got = 0
        while got < slot.count {
            var iov = iovec(iov_base: slot.baseAddress! + got, iov_len: slot.count - got)
            let n = c_preadv2(src.fd, &iov, 1, Int64(offset) + Int64(got), 0x08 /* RWF_NOWAIT */)
            if n > 0 { got += n; continue }
            if n == 0 { throw IOError("read (file shrank while being copied)", src.path, code: EIO) }
            if errno == EINTR { continue }
            break   // EAGAIN (not cached) or RWF_NOWAIT unsupported: read the rest directly
        }
        if got < slot.count {
            try readUncached(into: UnsafeMutableRawBufferPointer(rebasing: slot[got...]), at: offset + UInt64(got))
        }
    }

    private func readUncached(into slot: UnsafeMutableRawBufferPointer, at offset: UInt64) throws {
        if directFD == -2 { directFD = open(src.path, O_RDONLY | O_CLOEXEC | oDirect) }
        guard directFD >= 0 else {
            guard try src.pread(into: slot, at: offset) == slot.count else {
                throw IOError("read (file shrank while being copied)", src.path, code: EIO)
            }
            return
        }
        let a = UInt64(Sink.alignment)
        let start = offset - offset % a
        let end = (offset + UInt64(slot.count) + a - 1) / a * a
        let size = Int(end - start)
        if bounce == nil || bounce!.count < size {
            bounce?.deallocate()
            bounce = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: Sink.alignment)
        }
        var got = 0
        while got < size {
            let n = Glibc.pread(directFD, bounce!.baseAddress! + got, size - got, off_t(start) + off_t(got))
            if n < 0 { if errno == EINTR { continue }; throw IOError("read", src.path) }
            if n == 0 { break }   // end of file inside the last block
            got += n
        }
        let skip = Int(offset - start)
        guard got >= skip + slot.count else { throw IOError("read (file shrank while being copied)", src.path, code: EIO) }
        slot.copyMemory(from: UnsafeRawBufferPointer(rebasing: bounce![skip..<(skip + slot.count)]))
    }
}
