import PostgresNIO

/// Turns a failure into one line a technician can act on (PostgreSQL's own errors included), without
/// connection secrets.
public enum HQFailure {
    public static func describe(_ error: any Error) -> String {
        if let error = error as? PostgresTransactionError {
            if let inner = error.closureError ?? error.commitError ?? error.beginError { return describe(inner) }
        }
        if let error = error as? HQConnection.ConnectionLost {
            return "lost the connection to PostgreSQL at EDGE_HQ_DATABASE_URL: \(error.description)"
        }
        if let error = error as? PSQLError {
            switch error.code {
            case .connectionError, .serverClosedConnection, .clientClosedConnection:
                return "cannot reach PostgreSQL at EDGE_HQ_DATABASE_URL; is it running and reachable?"
            case .server:
                let message = error.serverInfo?[.message] ?? "an error"
                let state = error.serverInfo?[.sqlState] ?? "?"
                if state == "28P01" || state == "28000" {
                    return "PostgreSQL refused the user or password in EDGE_HQ_DATABASE_URL"
                }
                if state == "3D000" { return "the database in EDGE_HQ_DATABASE_URL does not exist" }
                return "PostgreSQL said: \(message) (SQLSTATE \(state))"
            default:
                return "PostgreSQL failed (\(error.code))"
            }
        }
        return "\(error)"
    }
}
