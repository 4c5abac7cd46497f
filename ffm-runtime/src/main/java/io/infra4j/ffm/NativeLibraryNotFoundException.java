package io.infra4j.ffm;

import java.util.List;

/** A native library was not found; the message lists every place that was searched. */
public class NativeLibraryNotFoundException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String library;
    private final transient List<String> looked;

    public NativeLibraryNotFoundException(String library, List<String> looked, String hint) {
        super(message(library, looked, hint));
        this.library = library;
        this.looked = List.copyOf(looked);
    }

    private static String message(String library, List<String> looked, String hint) {
        StringBuilder sb = new StringBuilder("native library '").append(library).append("' not found; looked in:");
        for (String l : looked) {
            sb.append("\n  - ").append(l);
        }
        if (hint != null && !hint.isEmpty()) {
            sb.append("\n").append(hint);
        }
        return sb.toString();
    }

    public String library() {
        return library;
    }

    /** The places searched, in order. */
    public List<String> looked() {
        return looked;
    }
}
