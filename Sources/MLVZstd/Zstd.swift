// MLVZstd — the only module that imports libzstd.
//
// Chunks are small (at most a few hundred KiB) and their uncompressed size is always
// known from the index before they are read, so reads use zstd's one-shot API: a frame
// that decodes to anything but exactly the expected size is an error. Verifying a pack
// from elsewhere, whose entries may declare any size, streams instead (ZstdStreamDecoder).
import MLVSystem
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

    /// Compresses `src` with `prefix` as its history (`ZSTD_CCtx_refPrefix`): what `src`
    /// shares with `prefix` costs a few bytes per match. Decoding needs the same prefix
    /// (`ZstdDecompressor.decompress(_:prefix:into:)`). The window covers prefix and input
    /// (up to 2^25), so a match anywhere in the prefix is found.
    public func compress(_ src: UnsafeRawBufferPointer, prefix: UnsafeRawBufferPointer, level: Int32? = nil,
                         into dst: UnsafeMutableRawBufferPointer) throws -> Int {
        func check(_ r: Int) throws {
            if ZSTD_isError(r) != 0 { throw ZstdError.compressionFailed(String(cString: ZSTD_getErrorName(r))) }
        }
        try check(ZSTD_CCtx_reset(ctx, ZSTD_reset_session_and_parameters))
        try check(ZSTD_CCtx_setParameter(ctx, ZSTD_c_compressionLevel, level ?? self.level))
        var windowLog: Int32 = 10
        while windowLog < 25 && (1 << windowLog) < prefix.count + src.count { windowLog += 1 }
        try check(ZSTD_CCtx_setParameter(ctx, ZSTD_c_windowLog, windowLog))
        try check(ZSTD_CCtx_setPledgedSrcSize(ctx, UInt64(src.count)))
        if prefix.count > 0 { try check(ZSTD_CCtx_refPrefix(ctx, prefix.baseAddress, prefix.count)) }
        let n = ZSTD_compress2(ctx, dst.baseAddress, dst.count, src.baseAddress, src.count)
        // The next plain `compress` call passes its level itself; the window must not stay.
        _ = ZSTD_CCtx_reset(ctx, ZSTD_reset_session_and_parameters)
        try check(n)
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

    /// Decompresses one frame made with `prefix` as its history (`ZSTD_DCtx_refPrefix`, used
    /// for this frame only), with the same size checks as `decompress(_:into:)`. A frame
    /// asking for a window over 2^25 (mlv writes at most that) is refused.
    public func decompress(_ src: UnsafeRawBufferPointer, prefix: UnsafeRawBufferPointer,
                           into dst: UnsafeMutableRawBufferPointer) throws {
        _ = ZSTD_DCtx_reset(ctx, ZSTD_reset_session_and_parameters)
        _ = ZSTD_DCtx_setParameter(ctx, ZSTD_d_windowLogMax, 25)
        if prefix.count > 0 {
            let r = ZSTD_DCtx_refPrefix(ctx, prefix.baseAddress, prefix.count)
            if ZSTD_isError(r) != 0 { throw ZstdError.corruptFrame(String(cString: ZSTD_getErrorName(r))) }
        }
        defer { _ = ZSTD_DCtx_reset(ctx, ZSTD_reset_session_and_parameters) }
        try decompress(src, into: dst)
    }
}

/// A streaming decoder (`ZSTD_decompressStream`) for verifying objects whose size comes from
/// untrusted headers: output arrives in pieces of at most `ZSTD_DStreamOutSize()` bytes, so
/// memory does not grow with the size a frame declares. The window a frame may ask for is
/// capped (`ZSTD_d_windowLogMax`), bounding the decoder's own buffer too. Not thread-safe.
public final class ZstdStreamDecoder {
    private let ctx: OpaquePointer
    private var out: [UInt8]
    private var finished = false

    /// 2^23 = 8 MiB: the largest window zstd levels 1-19 (the levels mlv writes) ever use.
    public static let defaultWindowLogMax: Int32 = 23

    public init(windowLogMax: Int32 = ZstdStreamDecoder.defaultWindowLogMax) {
        guard let ctx = ZSTD_createDCtx() else { preconditionFailure("ZSTD_createDCtx: out of memory") }
        self.ctx = ctx
        _ = ZSTD_DCtx_setParameter(ctx, ZSTD_d_windowLogMax, windowLogMax)
        out = [UInt8](repeating: 0, count: ZSTD_DStreamOutSize())
    }

    deinit { ZSTD_freeDCtx(ctx) }

    /// Starts a new frame, dropping any state of the previous one.
    public func reset() {
        _ = ZSTD_DCtx_reset(ctx, ZSTD_reset_session_only)
        finished = false
    }

    /// True when the last input fed ended exactly at the end of a frame (false before any).
    public var atFrameEnd: Bool { finished }

    /// Decodes `src` (any piece of the stored bytes, in order), handing each decoded piece
    /// to `sink`.
    public func feed(_ src: UnsafeRawBufferPointer, _ sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        var input = ZSTD_inBuffer(src: src.baseAddress, size: src.count, pos: 0)
        repeat {
            let before = input.pos
            let (ret, produced) = out.withUnsafeMutableBytes { o -> (Int, Int) in
                var output = ZSTD_outBuffer(dst: o.baseAddress, size: o.count, pos: 0)
                let r = ZSTD_decompressStream(ctx, &output, &input)
                return (r, output.pos)
            }
            if ZSTD_isError(ret) != 0 { throw ZstdError.corruptFrame(String(cString: ZSTD_getErrorName(ret))) }
            // 0: a frame is complete. A call after that with nothing left answers with a
            // hint for the next frame's header: only one that made progress starts a frame.
            if ret == 0 { finished = true } else if produced > 0 || input.pos > before { finished = false }
            if produced > 0 { try out.withUnsafeBytes { try sink(UnsafeRawBufferPointer(rebasing: $0[0..<produced])) } }
            // Until all input is consumed and a call yields nothing more: the decoder may
            // keep buffered input and hand out one block per call.
            if input.pos == input.size && produced == 0 { break }
        } while true
    }
}

extension ZstdError: CategorizedError {
    public var category: ErrorCategory { .integrity }
}
