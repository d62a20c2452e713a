// MLVZstd — the only module that imports libzstd.
//
// Chunks are small (at most a few hundred KiB) and their uncompressed size is always
// known from the index before they are read, so only zstd's one-shot API is wrapped:
// a frame that decodes to anything but exactly the expected size is an error, which also
// bounds memory against frames that declare an enormous content size.
import CZstd

public enum ZstdError: Error, Equatable, CustomStringConvertible {
    case compressionFailed(String)
    case corruptFrame(String)
    case sizeMismatch(expected: Int, actual: Int)

    public var description: String {
        switch self {
        case .compressionFailed(let why): return "zstd compression failed: \(why)"
        case .corruptFrame(let why): return "corrupt zstd frame: \(why)"
        case .sizeMismatch(let expected, let actual):
            return "zstd frame decodes to \(actual) bytes, expected \(expected)"
        }
    }
}

/// Worst-case compressed size for `size` input bytes (`ZSTD_compressBound`).
public func zstdCompressBound(_ size: Int) -> Int { ZSTD_compressBound(size) }

/// A compression context (`ZSTD_CCtx`), reused across calls. Not thread-safe: one per worker.
public final class ZstdCompressor {
    private let ctx: OpaquePointer
    public let level: Int32

    public init(level: Int32) {
        guard let ctx = ZSTD_createCCtx() else { preconditionFailure("ZSTD_createCCtx: out of memory") }
        self.ctx = ctx
        self.level = level
    }

    deinit { ZSTD_freeCCtx(ctx) }

    /// Compresses `src` into `dst` (`ZSTD_compressCCtx`); `dst` must hold `zstdCompressBound(src.count)`.
    /// Returns the number of bytes written.
    public func compress(_ src: UnsafeRawBufferPointer, into dst: UnsafeMutableRawBufferPointer) throws -> Int {
        let n = ZSTD_compressCCtx(ctx, dst.baseAddress, dst.count, src.baseAddress, src.count, level)
        if ZSTD_isError(n) != 0 { throw ZstdError.compressionFailed(String(cString: ZSTD_getErrorName(n))) }
        return n
    }
}

/// A decompression context (`ZSTD_DCtx`). Not thread-safe: one per worker.
public final class ZstdDecompressor {
    private let ctx: OpaquePointer

    public init() {
        guard let ctx = ZSTD_createDCtx() else { preconditionFailure("ZSTD_createDCtx: out of memory") }
        self.ctx = ctx
    }

    deinit { ZSTD_freeDCtx(ctx) }

    /// Decompresses one frame (`ZSTD_decompressDCtx`) into `dst`, which is exactly the size the
    /// caller expects. The frame's declared size is checked first (`ZSTD_getFrameContentSize`),
    /// so a hostile frame cannot make us allocate or write more than `dst.count` bytes.
    public func decompress(_ src: UnsafeRawBufferPointer, into dst: UnsafeMutableRawBufferPointer) throws {
        let declared = ZSTD_getFrameContentSize(src.baseAddress, src.count)
        if declared == ZSTD_CONTENTSIZE_ERROR { throw ZstdError.corruptFrame("not a zstd frame") }
        if declared != ZSTD_CONTENTSIZE_UNKNOWN && declared != UInt64(dst.count) {
            throw ZstdError.sizeMismatch(expected: dst.count, actual: Int(clamping: declared))
        }
        let n = ZSTD_decompressDCtx(ctx, dst.baseAddress, dst.count, src.baseAddress, src.count)
        if ZSTD_isError(n) != 0 { throw ZstdError.corruptFrame(String(cString: ZSTD_getErrorName(n))) }
        if n != dst.count { throw ZstdError.sizeMismatch(expected: dst.count, actual: n) }
    }
}
