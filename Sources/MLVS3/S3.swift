// S3 — the handful of S3 calls a remote needs (ListObjectsV2, GetObject, PutObject, multipart
// upload; HeadObject and CreateBucket for tests), signed with SigV4, retried with exponential
// backoff and jitter on 5xx, throttling and dropped connections. Bodies stream from and to
// files.
import Glibc
import MLVSystem

public enum S3Error: Error, CustomStringConvertible {
    case credentials(String)
    case badURL(String)
    /// An error response from the server: HTTP status, S3 error code, message.
    case service(status: Int, code: String, message: String, what: String)
    /// No response after every attempt.
    case transport(String)
    case badResponse(String)

    public var description: String {
        switch self {
        case .credentials(let m), .badURL(let m), .transport(let m), .badResponse(let m): return m
        case .service(let status, let code, let message, let what):
            switch code {
            // The caller names its own fix (how to point at another bucket).
            case "NoSuchBucket": return "bucket \(what) does not exist"
            case "InvalidAccessKeyId": return "the server does not know the access key (\(message.isEmpty ? code : message)); check AWS_ACCESS_KEY_ID or the profile"
            case "SignatureDoesNotMatch": return "the secret key does not match the access key (SignatureDoesNotMatch); check AWS_SECRET_ACCESS_KEY or the profile"
            case "AccessDenied": return "access denied to \(what); the credentials lack permission"
            default:
                return "\(what): HTTP \(status)" + (code.isEmpty ? "" : " \(code)") + (message.isEmpty ? "" : ": \(message)")
            }
        }
    }

}

/// Where objects go: a bucket and a key prefix, on AWS or on an S3-compatible endpoint.
public struct S3Location: Sendable, Equatable {
    public let bucket: String
    /// Without leading or trailing '/'; may be empty.
    public let prefix: String
    /// scheme://host[:port], no trailing slash.
    public let endpoint: String
    /// Path-style (endpoint/bucket/key) for custom endpoints and dotted bucket names;
    /// virtual-hosted (bucket.endpoint/key) for AWS itself.
    public let pathStyle: Bool

    /// Parses `s3://bucket/prefix`. `endpoint` nil means AWS in `region`.
    public init(url: String, endpoint: String?, region: String) throws {
        guard url.hasPrefix("s3://") else { throw S3Error.badURL("\(url.debugDescription) is not an s3:// URL") }
        let rest = url.dropFirst(5)
        let bucket = String(rest.prefix { $0 != "/" })
        guard Self.validBucket(bucket) else {
            throw S3Error.badURL("\(url.debugDescription): bucket names are 3-63 lowercase letters, digits, '.' and '-'")
        }
        let prefix = rest.dropFirst(bucket.count).split(separator: "/").joined(separator: "/")
        guard !prefix.split(separator: "/").contains(where: { $0 == "." || $0 == ".." }) else {
            throw S3Error.badURL("\(url.debugDescription): the key prefix may not contain '.' or '..' parts")
        }
        self.bucket = bucket
        self.prefix = prefix
        if let e = endpoint {
            var e = e
            while e.hasSuffix("/") { e.removeLast() }
            guard e.hasPrefix("http://") || e.hasPrefix("https://"), e.split(separator: "/").count == 2 else {
                throw S3Error.badURL("endpoint \(e.debugDescription) should look like https://host[:port]")
            }
            self.endpoint = e
            self.pathStyle = true
        } else {
            self.endpoint = "https://s3.\(region).amazonaws.com"
            self.pathStyle = bucket.contains(".")
        }
    }

    static func validBucket(_ b: String) -> Bool {
        (3...63).contains(b.count) && b.utf8.allSatisfy { ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 46 || $0 == 45 }
            && b.first != "." && b.first != "-" && b.last != "." && b.last != "-"
    }

    public var url: String { "s3://\(bucket)" + (prefix.isEmpty ? "" : "/\(prefix)") }

    /// The full key of a path relative to the prefix.
    public func key(_ rel: String) -> String { prefix.isEmpty ? rel : "\(prefix)/\(rel)" }

    /// Host header and encoded path for a key (nil: the bucket itself).
    func target(_ key: String?) -> (scheme: String, host: String, path: String) {
        let scheme = endpoint.hasPrefix("https://") ? "https" : "http"
        let base = String(endpoint.dropFirst(scheme.count + 3))
        let encoded = key.map { "/" + SigV4.uriEncode($0, encodeSlash: false) }
        if pathStyle { return (scheme, base, "/\(bucket)" + (encoded ?? "")) }
        return (scheme, "\(bucket).\(base)", encoded ?? "/")
    }
}

public struct S3Client: Sendable {
    public let location: S3Location
    public let signer: SigV4
    public var maxAttempts = 5
    public var timeouts = HTTPTimeouts()
    /// Objects above this size go up in parts (S3 allows 5 MiB to 5 GiB per part; packs are
    /// ~32 MiB, so they travel as 8 MiB parts and a failed part is all that is resent).
    public var multipartThreshold: UInt64 = 16 << 20
    public var partSize: UInt64 = 8 << 20
    /// Print each request's and response's headers to stderr (curl's verbose mode, through
    /// `traceLine`), for debugging a server that disagrees; the caller decides when.
    public var trace = false
    let pool = ConnectionPool()

    public init(location: S3Location, credentials: AWSCredentials, region: String) {
        self.location = location
        self.signer = SigV4(credentials: credentials, region: region)
    }

    // MARK: Requests

    /// One signed request, retried with exponential backoff (200 ms doubling to 5 s, with
    /// jitter) on connection failures, timeouts, 5xx and throttling. A file sink is rewound
    /// and truncated before each attempt.
    func send(_ method: String, key: String?, query: [(String, String)] = [], headers: [(String, String)] = [],
              body: HTTPBody = .none, payloadHash: String = SigV4.emptyPayloadHash, sink: FileHandleFD? = nil) throws -> HTTPResponse {
        let (scheme, host, path) = location.target(key)
        let q = SigV4.canonicalQuery(query)
        let url = "\(scheme)://\(host)\(path)" + (q.isEmpty ? "" : "?\(q)")
        let what = key.map { "s3://\(location.bucket)/\($0)" } ?? location.bucket
        var attempt = 0
        while true {
            attempt += 1
            if let s = sink {
                guard ftruncate(s.fd, 0) == 0, lseek(s.fd, 0, SEEK_SET) == 0 else { throw IOError("truncate", s.path) }
            }
            let signed = signer.sign(method: method, host: host, path: path, query: query, headers: headers,
                                     payloadHash: payloadHash, time: Int(time(nil)))
            let response: HTTPResponse
            do {
                response = try pool.with { try $0.perform(method: method, url: url, headers: signed, body: body, sink: sink, timeouts: timeouts, trace: trace) }
            } catch let e as HTTPTransportError {
                if e.retryable && attempt < maxAttempts { backoff(attempt); continue }
                throw S3Error.transport("cannot reach \(location.endpoint): \(e.message)" + (attempt > 1 ? " (after \(attempt) attempts)" : ""))
            }
            if (200..<300).contains(response.status) { return response }
            let code = XML.first("Code", in: response.text) ?? ""
            let error = S3Error.service(status: response.status, code: code.isEmpty ? Self.codeFor(response.status) : code,
                                        message: XML.first("Message", in: response.text) ?? "", what: key == nil ? location.bucket : what)
            let transient = [500, 502, 503, 504, 429].contains(response.status) || ["SlowDown", "RequestTimeout", "InternalError"].contains(code)
            if transient && attempt < maxAttempts { backoff(attempt); continue }
            throw error
        }
    }

    private func backoff(_ attempt: Int) {
        let cap = min(5.0, 0.2 * Double(1 << min(attempt - 1, 10)))
        usleep(UInt32(cap * Double.random(in: 0.5...1.0) * 1_000_000))
    }

    /// A body-less error response (HEAD) still needs a name.
    static func codeFor(_ status: Int) -> String {
        switch status {
        case 403: return "AccessDenied"
        case 404: return "NotFound"
        default: return ""
        }
    }

    // MARK: Operations

    /// Keys (relative to the prefix) and sizes of every object under `sub`, all pages.
    public func list(_ sub: String) throws -> [(key: String, size: UInt64)] {
        let full = location.key(sub)
        var out: [(String, UInt64)] = []
        var token: String?
        var seen = Set<String>()
        repeat {
            var q = [("list-type", "2"), ("prefix", full.hasSuffix("/") ? full : full + "/")]
            if let t = token { q.append(("continuation-token", t)) }
            let r = try send("GET", key: nil, query: q)
            let text = r.text
            for c in XML.all("Contents", in: text) {
                guard let k = XML.first("Key", in: c), let s = XML.first("Size", in: c).flatMap(UInt64.init) else {
                    throw S3Error.badResponse("listing of \(location.url)/\(sub) has an entry without Key or Size")
                }
                let rel = location.prefix.isEmpty ? k : String(k.dropFirst(location.prefix.count + 1))
                out.append((rel, s))
            }
            guard XML.first("IsTruncated", in: text) == "true" else { break }
            // A server that says "more" without a new token (or repeats one) would keep a
            // listing going for ever: that answer is broken, not a longer list.
            guard let next = XML.first("NextContinuationToken", in: text), !next.isEmpty, seen.insert(next).inserted else {
                throw S3Error.badResponse("listing of \(location.url)/\(sub): the server says the list goes on but gives no new continuation token")
            }
            token = next
        } while token != nil
        return out
    }

    /// Downloads an object into `sink` (from its start). Returns its size.
    @discardableResult
    public func get(_ rel: String, to sink: FileHandleFD) throws -> UInt64 {
        let r = try send("GET", key: location.key(rel), sink: sink)
        if let l = r.headers["content-length"].flatMap(UInt64.init), l != r.written {
            throw S3Error.badResponse("s3://\(location.bucket)/\(location.key(rel)): got \(r.written) of \(l) bytes")
        }
        return r.written
    }

    /// Uploads a file; in parts above `multipartThreshold`. The object appears whole or not
    /// at all (S3 PUTs and completed multipart uploads are atomic).
    @discardableResult
    public func put(_ path: String, as rel: String) throws -> UInt64 {
        let f = try FileHandleFD.openRead(path)
        let size = UInt64(try f.stat().st_size)
        let key = location.key(rel)
        if size <= multipartThreshold {
            _ = try send("PUT", key: key, body: .file(f, offset: 0, length: size), payloadHash: try Self.hash(f, 0, size))
            return size
        }
        let created = try send("POST", key: key, query: [("uploads", "")])
        guard let id = XML.first("UploadId", in: created.text) else {
            throw S3Error.badResponse("s3://\(location.bucket)/\(key): no UploadId in the reply to CreateMultipartUpload")
        }
        do {
            var parts = ""
            var offset: UInt64 = 0
            var n = 0
            while offset < size {
                n += 1
                let len = min(partSize, size - offset)
                let r = try send("PUT", key: key, query: [("partNumber", "\(n)"), ("uploadId", id)],
                                 body: .file(f, offset: offset, length: len), payloadHash: try Self.hash(f, offset, len))
                guard let etag = r.headers["etag"] else { throw S3Error.badResponse("s3://\(location.bucket)/\(key): part \(n) came back without an ETag") }
                parts += "<Part><PartNumber>\(n)</PartNumber><ETag>\(XML.escape(etag))</ETag></Part>"
                offset += len
            }
            let body = Array("<CompleteMultipartUpload>\(parts)</CompleteMultipartUpload>".utf8)
            let done = try send("POST", key: key, query: [("uploadId", id)], body: .bytes(body), payloadHash: SigV4.hex(SigV4.sha256(body)))
            // CompleteMultipartUpload can answer 200 and still fail, with an error document.
            if let code = XML.first("Code", in: done.text), done.text.contains("<Error>") {
                throw S3Error.service(status: 200, code: code, message: XML.first("Message", in: done.text) ?? "", what: "s3://\(location.bucket)/\(key)")
            }
        } catch {
            // Parts of an abandoned upload cost storage until aborted; best effort.
            _ = try? send("DELETE", key: key, query: [("uploadId", id)])
            throw error
        }
        return size
    }

    /// Deletes an object (S3 answers success for one already gone).
    public func delete(_ rel: String) throws {
        _ = try send("DELETE", key: location.key(rel))
    }

    /// An object's headers (ETag, Content-Length, ...).
    public func head(_ rel: String) throws -> [String: String] {
        try send("HEAD", key: location.key(rel)).headers
    }

    /// Creates the bucket (us-east-1 style, no location constraint). For tests and setup
    /// scripts; mlv itself never creates buckets.
    public func createBucket() throws {
        _ = try send("PUT", key: nil)
    }

    static func hash(_ f: FileHandleFD, _ offset: UInt64, _ length: UInt64) throws -> String {
        let h = SHA256Stream()
        var buf = [UInt8](repeating: 0, count: 1 << 20)
        var done: UInt64 = 0
        while done < length {
            let want = Int(min(UInt64(buf.count), length - done))
            let n = try buf.withUnsafeMutableBytes { try f.pread(into: UnsafeMutableRawBufferPointer(rebasing: $0[..<want]), at: offset + done) }
            guard n == want else { throw IOError("read", f.path, code: EIO) }
            buf.withUnsafeBytes { h.update(UnsafeRawBufferPointer(rebasing: $0[..<n])) }
            done += UInt64(n)
        }
        return SigV4.hex(h.finishBytes())
    }
}

/// Just enough XML for S3's replies: the text of elements by name. S3 documents are flat,
/// without CDATA or attributes on the elements read here.
enum XML {
    static func all(_ tag: String, in text: String) -> [String] {
        var out: [String] = []
        var rest = Substring(text)
        while let open = rest.firstRange(of: "<\(tag)>") {
            guard let close = rest[open.upperBound...].firstRange(of: "</\(tag)>") else { break }
            out.append(unescape(rest[open.upperBound..<close.lowerBound]))
            rest = rest[close.upperBound...]
        }
        return out
    }

    static func first(_ tag: String, in text: String) -> String? {
        guard let open = text.firstRange(of: "<\(tag)>"), let close = text[open.upperBound...].firstRange(of: "</\(tag)>") else { return nil }
        return unescape(text[open.upperBound..<close.lowerBound])
    }

    static func unescape(_ s: Substring) -> String {
        guard s.contains("&") else { return String(s) }
        var out = ""
        var i = s.startIndex
        while i < s.endIndex {
            if s[i] == "&", let semi = s[i...].firstIndex(of: ";"), s.distance(from: i, to: semi) <= 10 {
                let name = s[s.index(after: i)..<semi]
                var scalar: Unicode.Scalar?
                switch name {
                case "amp": scalar = "&"
                case "lt": scalar = "<"
                case "gt": scalar = ">"
                case "quot": scalar = "\""
                case "apos": scalar = "'"
                default:
                    if name.hasPrefix("#x") { scalar = UInt32(name.dropFirst(2), radix: 16).flatMap(Unicode.Scalar.init) }
                    else if name.hasPrefix("#") { scalar = UInt32(name.dropFirst()).flatMap(Unicode.Scalar.init) }
                }
                if let sc = scalar {
                    out.unicodeScalars.append(sc)
                    i = s.index(after: semi)
                    continue
                }
            }
            out.append(s[i])
            i = s.index(after: i)
        }
        return out
    }

    static func escape(_ s: String) -> String {
        s.replacing("&", with: "&amp;").replacing("<", with: "&lt;").replacing(">", with: "&gt;").replacing("\"", with: "&quot;")
    }
}

extension S3Error: CategorizedError {
    public var category: ErrorCategory {
        switch self {
        case .credentials, .badURL: return .input
        case .service(let status, _, _, _): return status == 404 ? .input : .system
        case .transport, .badResponse: return .system
        }
    }
}
