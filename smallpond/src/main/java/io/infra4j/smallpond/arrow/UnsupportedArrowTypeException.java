package io.infra4j.smallpond.arrow;

/** An Arrow type (format string) smallpond cannot read or write; the message names the column and the format. */
public class UnsupportedArrowTypeException extends IllegalArgumentException {
    public UnsupportedArrowTypeException(String message) {
        super(message);
    }
}
