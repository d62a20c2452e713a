// Credentials — found the way the AWS tools find them, so a machine set up for `aws s3` works
// with mlv unchanged: environment first, then the shared credentials file's profile. Secrets
// are never printed: `description` shows the key id and where it came from.
import Glibc
import MLVSystem

public struct AWSCredentials: Sendable, CustomStringConvertible {
    public let accessKeyID: String
    public let secretAccessKey: String
    public let sessionToken: String?
    /// "environment" or "profile NAME in PATH", for messages.
    public let source: String

    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil, source: String = "given") {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
        self.source = source
    }

    public var description: String { "access key \(accessKeyID) (from \(source))" }
}

public struct AWSEnvironment: Sendable {
    public let variables: [String: String]

    public init(_ variables: [String: String]) { self.variables = variables }

    /// The process environment.
    public static func current() -> AWSEnvironment {
        var vars: [String: String] = [:]
        var p = environ
        while let entry = p.pointee {
            let s = String(cString: entry)
            if let eq = s.firstIndex(of: "=") { vars[String(s[..<eq])] = String(s[s.index(after: eq)...]) }
            p += 1
        }
        return AWSEnvironment(vars)
    }

    var home: String { variables["HOME"] ?? "/" }
    var profile: String { nonEmpty("AWS_PROFILE") ?? nonEmpty("AWS_DEFAULT_PROFILE") ?? "default" }
    var credentialsFile: String { nonEmpty("AWS_SHARED_CREDENTIALS_FILE") ?? "\(home)/.aws/credentials" }
    var configFile: String { nonEmpty("AWS_CONFIG_FILE") ?? "\(home)/.aws/config" }

    func nonEmpty(_ name: String) -> String? {
        guard let v = variables[name], !v.isEmpty else { return nil }
        return v
    }

    /// AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY[/AWS_SESSION_TOKEN], else the profile
    /// (AWS_PROFILE, default "default") in ~/.aws/credentials, else its keys in ~/.aws/config.
    public func credentials() throws -> AWSCredentials {
        if let id = nonEmpty("AWS_ACCESS_KEY_ID") {
            guard let secret = nonEmpty("AWS_SECRET_ACCESS_KEY") else {
                throw S3Error.credentials("AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not; set both")
            }
            return AWSCredentials(accessKeyID: id, secretAccessKey: secret, sessionToken: nonEmpty("AWS_SESSION_TOKEN"), source: "environment")
        }
        for (file, section) in [(credentialsFile, profile), (configFile, profile == "default" ? "default" : "profile \(profile)")] {
            guard let s = INI.read(file)?[section], let id = s["aws_access_key_id"] else { continue }
            guard let secret = s["aws_secret_access_key"] else {
                throw S3Error.credentials("profile \(profile) in \(file) has aws_access_key_id but no aws_secret_access_key")
            }
            return AWSCredentials(accessKeyID: id, secretAccessKey: secret, sessionToken: s["aws_session_token"], source: "profile \(profile) in \(file)")
        }
        throw S3Error.credentials("no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or add a [\(profile)] profile to \(credentialsFile)")
    }

    /// AWS_REGION, AWS_DEFAULT_REGION, the profile's region in ~/.aws/config, else us-east-1.
    public func region() -> String {
        if let r = nonEmpty("AWS_REGION") ?? nonEmpty("AWS_DEFAULT_REGION") { return r }
        let section = profile == "default" ? "default" : "profile \(profile)"
        return INI.read(configFile)?[section]?["region"] ?? "us-east-1"
    }

    /// AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL, as the AWS CLI and SDKs honour them.
    public func endpoint() -> String? { nonEmpty("AWS_ENDPOINT_URL_S3") ?? nonEmpty("AWS_ENDPOINT_URL") }
}

/// The INI dialect of ~/.aws files: [section] lines, `key = value` lines, # or ; comments.
enum INI {
    static func read(_ path: String) -> [String: [String: String]]? {
        guard let bytes = try? FS.readAll(path) else { return nil }
        return parse(String(decoding: bytes, as: UTF8.self))
    }

    static func parse(_ text: String) -> [String: [String: String]] {
        var out: [String: [String: String]] = [:]
        var section: String?
        for raw in text.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            let line = raw.trimmingCharacters(in: " \t\r")
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") && line.hasSuffix("]") {
                section = String(line.dropFirst().dropLast()).trimmingCharacters(in: " \t")
                continue
            }
            guard let s = section, let eq = line.firstIndex(of: "=") else { continue }
            let key = line[..<eq].trimmingCharacters(in: " \t").lowercased()
            let value = line[line.index(after: eq)...].trimmingCharacters(in: " \t")
            out[s, default: [:]][key] = value
        }
        return out
    }
}
