package io.infra4j.smallpond.plan;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** SQL text helpers: literals, identifiers, and the {0}/{1} placeholders of partial SQL. */
public final class Sql {
    private static final Pattern PLACEHOLDER = Pattern.compile("\\{(\\d)}");

    private Sql() {}

    public static String literal(String s) {
        return "'" + s.replace("'", "''") + "'";
    }

    public static String identifier(String s) {
        return "\"" + s.replace("\"", "\"\"") + "\"";
    }

    /** The highest placeholder index {@code template} uses, or -1 when it uses none. */
    public static int maxPlaceholder(String template) {
        Matcher m = PLACEHOLDER.matcher(template);
        int max = -1;
        while (m.find()) {
            max = Math.max(max, Integer.parseInt(m.group(1)));
        }
        return max;
    }

    /**
     * Replaces {@code {i}} with {@code names.get(i)}. Only a digit between braces is a placeholder, so SQL
     * struct literals ({@code {'a': 1}}) pass through unchanged.
     */
    public static String fill(String template, List<String> names) {
        Matcher m = PLACEHOLDER.matcher(template);
        StringBuilder sb = new StringBuilder();
        while (m.find()) {
            int i = Integer.parseInt(m.group(1));
            if (i >= names.size()) {
                throw new IllegalArgumentException("sql: {" + i + "} names input " + i + " but there are " + names.size() + " input(s): " + template);
            }
            m.appendReplacement(sb, Matcher.quoteReplacement(names.get(i)));
        }
        m.appendTail(sb);
        return sb.toString();
    }
}
