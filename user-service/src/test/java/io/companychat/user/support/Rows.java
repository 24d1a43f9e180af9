package io.companychat.user.support;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.companychat.common.testing.TestDatabase;

/** Looks at the tables under the API, over JDBC. */
public final class Rows {

    private final TestDatabase database;

    public Rows(TestDatabase database) {
        this.database = database;
    }

    public long count(String sql, Object... params) {
        return ((Number) query(sql, params).get(0).values().iterator().next()).longValue();
    }

    public Map<String, Object> one(String sql, Object... params) {
        List<Map<String, Object>> rows = query(sql, params);
        if (rows.size() != 1) {
            throw new AssertionError("expected one row for " + sql + ", got " + rows.size());
        }
        return rows.get(0);
    }

    public List<Map<String, Object>> query(String sql, Object... params) {
        try (Connection connection = database.connect(); PreparedStatement statement = connection.prepareStatement(sql)) {
            bind(statement, params);
            try (ResultSet result = statement.executeQuery()) {
                ResultSetMetaData meta = result.getMetaData();
                List<Map<String, Object>> rows = new ArrayList<>();
                while (result.next()) {
                    Map<String, Object> row = new LinkedHashMap<>();
                    for (int i = 1; i <= meta.getColumnCount(); i++) {
                        row.put(meta.getColumnLabel(i), result.getObject(i));
                    }
                    rows.add(row);
                }
                return rows;
            }
        } catch (SQLException e) {
            throw new IllegalStateException("query failed: " + sql, e);
        }
    }

    public int update(String sql, Object... params) {
        try (Connection connection = database.connect(); PreparedStatement statement = connection.prepareStatement(sql)) {
            bind(statement, params);
            return statement.executeUpdate();
        } catch (SQLException e) {
            throw new IllegalStateException("update failed: " + sql, e);
        }
    }

    /** Inserts a user directly, with the given bcrypt hash; its id. */
    public long insertUser(String name, String email, String passwordHash) {
        return ((Number) one("INSERT INTO users (name, subname, email, job, password_hash) VALUES (?, ?, ?, ?, ?) RETURNING id",
                name, Fixtures.SUBNAME, email, Fixtures.JOB, passwordHash).get("id")).longValue();
    }

    /** users and mail_outbox row counts, to show that a refused request stored nothing. */
    public List<Long> footprint() {
        return List.of(count("SELECT count(*) FROM users"), count("SELECT count(*) FROM mail_outbox"));
    }

    private static void bind(PreparedStatement statement, Object[] params) throws SQLException {
        for (int i = 0; i < params.length; i++) {
            statement.setObject(i + 1, params[i]);
        }
    }
}
