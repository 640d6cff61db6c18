import type { ComponentChildren, VNode } from "preact";
import { html } from "./html.ts";

/**
 * A labelled form field with a description and, when invalid, an error
 * message; the control itself is the child and names both in
 * `aria-describedby` (see {@link describedBy}).
 */
export function TextField(
  props: {
    id: string;
    label: string;
    description: string;
    error?: string;
    children?: ComponentChildren;
  },
): VNode {
  return html`
    <div class=${`utrecht-form-field utrecht-form-field--text${
      props.error ? " utrecht-form-field--invalid" : ""
    }`}>
      <div class="utrecht-form-field__label">
        <label class="utrecht-form-label" for=${props.id}>${props.label}</label>
      </div>
      <div
        class="utrecht-form-field__description utrecht-form-field-description"
        id=${`${props.id}-description`}
      >
        ${props.description}
      </div>
      ${props.error
        ? html`
          <div
            class="utrecht-form-field__error-message utrecht-form-field-error-message"
            id=${`${props.id}-error`}
          >
            ${props.error}
          </div>
        `
        : null}
      <div class="utrecht-form-field__input">${props.children}</div>
    </div>
  `;
}

/**
 * The list of a form's errors above it, each linking to its field (the
 * field's id is the key of `errors`); nothing when there are none.
 */
export function ErrorSummary(
  props: { title: string; errors?: Record<string, string> },
): VNode | null {
  const entries = Object.entries(props.errors ?? {});
  if (entries.length === 0) return null;
  return html`
    <div class="utrecht-alert utrecht-alert--error akkoord-alert" role="alert">
      <div class="utrecht-alert__content">
        <div class="utrecht-alert__message">
          <p class="utrecht-paragraph"><strong>${props.title}</strong></p>
          <ul class="utrecht-unordered-list">
            ${entries.map(([field, message]) =>
              html`
                <li class="utrecht-unordered-list__item">
                  <a class="utrecht-link utrecht-link--html-a" href=${`#${field}`}>${message}</a>
                </li>
              `
            )}
          </ul>
        </div>
      </div>
    </div>
  `;
}

/** A short confirmation after an action, announced to screen readers. */
export function DoneNotice(props: { message: string }): VNode {
  return notice("ok", "status", props.message);
}

/** A warning above a form that something changed meanwhile; nothing when there is none. */
export function WarningNotice(props: { message?: string }): VNode | null {
  return props.message ? notice("warning", "alert", props.message) : null;
}

function notice(kind: "ok" | "warning", role: "status" | "alert", message: string): VNode {
  return html`
    <div class=${`utrecht-alert utrecht-alert--${kind} akkoord-alert`} role=${role}>
      <div class="utrecht-alert__content">
        <div class="utrecht-alert__message">
          <p class="utrecht-paragraph">${message}</p>
        </div>
      </div>
    </div>
  `;
}

/** The classes of a text box, marked invalid when it has an error. */
export function textboxClass(error: string | undefined): string {
  return `utrecht-textbox utrecht-textbox--html-input${error ? " utrecht-textbox--invalid" : ""}`;
}

/** The classes of a text area, marked invalid when it has an error. */
export function textareaClass(error: string | undefined): string {
  return `utrecht-textarea utrecht-textarea--html-textarea${
    error ? " utrecht-textarea--invalid" : ""
  }`;
}

/** The ids a field's control is described by: its description, and its error when it has one. */
export function describedBy(id: string, error: string | undefined): string {
  return error ? `${id}-description ${id}-error` : `${id}-description`;
}

/** Props of {@link TextInput}. */
export interface TextInputProps {
  /** The id the field's label and error summary point at; also the name. */
  id: string;
  /** `text` when not given. */
  type?: "text" | "email";
  value: string;
  error?: string;
  required?: boolean;
  maxLength?: number;
  autocomplete?: string;
}

/**
 * The single-line text box of a {@link TextField} with the same id: described
 * by the field's description and error, and marked invalid with an error.
 */
export function TextInput(props: TextInputProps): VNode {
  return html`
    <input
      class=${textboxClass(props.error)}
      id=${props.id}
      name=${props.id}
      type=${props.type ?? "text"}
      required=${props.required}
      maxlength=${props.maxLength === undefined ? undefined : String(props.maxLength)}
      autocomplete=${props.autocomplete}
      value=${props.value}
      aria-describedby=${describedBy(props.id, props.error)}
      aria-invalid=${props.error ? "true" : undefined}
    />
  `;
}

/** Props of {@link TextArea}. */
export interface TextAreaProps {
  /** The id the field's label and error summary point at; also the name. */
  id: string;
  rows: number;
  value: string;
  error?: string;
  required?: boolean;
  maxLength?: number;
  /** False for code and JSON. */
  spellcheck?: boolean;
  autocomplete?: string;
  /** Classes added to the text area's own. */
  class?: string;
}

/**
 * The multi-line text box of a {@link TextField} with the same id: described
 * by the field's description and error, and marked invalid with an error.
 */
export function TextArea(props: TextAreaProps): VNode {
  const classes = textareaClass(props.error);
  return html`
    <textarea
      class=${props.class ? `${classes} ${props.class}` : classes}
      id=${props.id}
      name=${props.id}
      rows=${String(props.rows)}
      required=${props.required}
      maxlength=${props.maxLength === undefined ? undefined : String(props.maxLength)}
      spellcheck=${props.spellcheck === undefined ? undefined : String(props.spellcheck)}
      autocomplete=${props.autocomplete}
      aria-describedby=${describedBy(props.id, props.error)}
      aria-invalid=${props.error ? "true" : undefined}
    >${props.value}</textarea>
  `;
}

/** A required single-line label input (name `label`) of a key or token form. */
export function LabelInput(props: { value?: string; error?: string }): VNode {
  return html`
    <${TextInput}
      id="label"
      required
      maxLength=${100}
      autocomplete="off"
      value=${props.value ?? ""}
      error=${props.error}
    />
  `;
}
