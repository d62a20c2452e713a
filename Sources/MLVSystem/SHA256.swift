// SHA-256 through OpenSSL's libcrypto (it uses the CPU's SHA extensions when present). The only
// importer of CCrypto: the store names objects with it, the S3 client signs requests with it.
import CCrypto

public enum Digest {
    /// SHA-256 of `data` into the 32 bytes at `out` (OpenSSL's `SHA256`).
    @inline(__always)
    public static func sha256(_ data: UnsafeRawBufferPointer, into out: UnsafeMutableRawPointer) {
        _ = SHA256(data.baseAddress?.assumingMemoryBound(to: UInt8.self), data.count, out.assumingMemoryBound(to: UInt8.self))
    }

    /// SHA-256 of `data` as 32 bytes.
    public static func sha256(_ data: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        data.withUnsafeBytes { d in out.withUnsafeMutableBytes { sha256(d, into: $0.baseAddress!) } }
        return out
    }
}

/// Incremental SHA-256 (`EVP_DigestInit_ex` / `EVP_DigestUpdate` / `EVP_DigestFinal_ex`),
/// for whole packs, index files and uploads. One per thread.
public final class SHA256Stream {
    private let ctx: OpaquePointer

    public init() {
        guard let ctx = EVP_MD_CTX_new() else { preconditionFailure("EVP_MD_CTX_new: out of memory") }
        self.ctx = ctx
        precondition(EVP_DigestInit_ex(ctx, EVP_sha256(), nil) == 1, "EVP_DigestInit_ex(sha256) failed")
    }

    deinit { EVP_MD_CTX_free(ctx) }

    public func update(_ data: UnsafeRawBufferPointer) {
        guard data.count > 0 else { return }
        precondition(EVP_DigestUpdate(ctx, data.baseAddress, data.count) == 1, "EVP_DigestUpdate failed")
    }

    public func update(_ bytes: [UInt8]) { bytes.withUnsafeBytes { update($0) } }

    /// The digest of everything passed to `update`, as 32 bytes.
    public func finishBytes() -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: 32)
        var len: UInt32 = 0
        precondition(EVP_DigestFinal_ex(ctx, &digest, &len) == 1 && len == 32, "EVP_DigestFinal_ex failed")
        return digest
    }
}
