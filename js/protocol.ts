// Trait and message types shared with the kernel (docs/PROTOCOL.md). Types and constants only: no DOM,
// no model access, so every module (and the unit tests) can import it.

export type Mode = "generate" | "edit" | "variation" | "expand";
export type State = "idle" | "running" | "done" | "error" | "cancelled";
/** Bytes as a host delivers them: ipywidgets gives DataView (mind byteOffset). */
export type Bytes = DataView | Uint8Array | ArrayBuffer;

export interface Options {
  prompt: string;
  mode: Mode;
  model: string;
  size: string;
  quality: string | null;
  n: number;
  background: string | null;
  output_format: string;
  output_compression: number | null;
  moderation: string | null;
  input_fidelity: string | null;
  partial_images: number;
  [key: string]: unknown;
}

export interface Capabilities {
  model?: string;
  known?: boolean;
  status?: string;
  note?: string;
  replacement?: string | null;
  shutdown_date?: string | null;
  lifecycle_message?: string;
  endpoints?: string[];
  sizes?: string[];
  custom_size?: boolean;
  qualities?: string[];
  output_formats?: string[];
  backgrounds?: string[];
  n_max?: number;
  prompt_max?: number;
  max_input_images?: number;
  mask?: boolean;
  markup?: boolean;
  input_fidelity?: string[];
  moderation?: boolean;
  streaming?: boolean;
  max_partial_images?: number;
  /** Values OpenAI calls a preview for this model, by parameter (e.g. background: ["transparent"]). */
  previews?: Record<string, string[]>;
  compressible_formats?: string[];
  transparent_formats?: string[];
}

export interface InputItem {
  id: string;
  name: string;
  width: number;
  height: number;
  thumb: Bytes;
}

export interface Status {
  state: State;
  message?: string;
  job_id?: string | null;
  started_ms?: number | null;
}

export interface ErrorInfo {
  title?: string;
  message?: string;
  hint?: string;
  code?: string | null;
  status?: number | null;
}

export interface ResultItem {
  id: string;
  width?: number;
  height?: number;
  format?: string;
  thumb: Bytes;
  prompt?: string;
  model?: string;
  size?: string;
  quality?: string;
  cost_text?: string;
  /** The bare Python call that reproduces this image. */
  code?: string;
  /** What "Copy code" copies: the import, a comment on the server and key, the call with absolute paths. */
  snippet?: string;
}

export interface HistoryRun {
  run_id: string;
  prompt?: string;
  created?: string;
  model?: string;
  /** What made it: generate, edit, expand, variation, batch or "turn N" (a conversation turn). */
  call?: string;
  items: { id: string; thumb: Bytes }[];
}

/** What the history strip shows: the search its runs match ("" = the newest runs), whether older runs
 * match too (`history_more` can bring them), and whether a page is being loaded. */
export interface HistoryState {
  query?: string;
  more?: boolean;
  loading?: boolean;
}

export interface Backend {
  kind?: "openai" | "custom" | "emulator" | string;
  label?: string;
  synthetic?: boolean;
}

export interface Cost {
  estimate_text?: string;
  /** Where the estimate comes from (price source and date, or learned runs): the figure's tooltip. */
  estimate_note?: string;
  last_text?: string;
  last_note?: string;
  session_text?: string;
  estimate_usd?: number | null;
  last_usd?: number | null;
  session_usd?: number | null;
}

/** The small spend view (widget/spend_view.py): plain texts, nothing to compute. */
export interface Spend {
  rows?: { model: string; kind: string; images: number; cost_text: string }[];
  total_text?: string;
  session_text?: string;
  budget_text?: string;
}

/** One turn in the refine box's strip (widget/conversation.py). */
export interface ConversationTurn {
  id: string;
  turn?: number | null;
  prompt?: string | null;
  action?: string | null;
  thread?: string | null;
  thumb: Bytes;
}

/** The refine box: the thread shown, its turns (after those it branched from), the turn sends continue from. */
export interface Conversation {
  thread?: string | null;
  turns?: ConversationTurn[];
  selected?: string | null;
}

export interface WidgetModel {
  options: Options;
  models: string[];
  capabilities: Capabilities;
  problems: Record<string, string>;
  inputs: InputItem[];
  mask_base: Bytes;
  mask: Bytes;
  /** Guidance strokes (RGBA PNG, transparent elsewhere) for models that take markup; may be absent. */
  markup?: Bytes;
  status: Status;
  preview: Bytes;
  error: ErrorInfo;
  results: ResultItem[];
  history: HistoryRun[];
  history_state: HistoryState;
  backend: Backend;
  cost: Cost;
  spend?: Spend;
  conversation?: Conversation;
  /** How long the page waits for the kernel's `pong` before saying it does not answer (ms). */
  answer_timeout_ms?: number;
  [key: string]: unknown;
}

// ------------------------------------------------------------------------------------ messages

export type Command =
  | { type: "generate" }
  | { type: "cancel" }
  | { type: "fetch_image"; id: string; request_id: string }
  | { type: "use_as_input"; id: string; role: "edit" | "reference" }
  | { type: "add_inputs"; names: string[]; upload_id?: string }
  | { type: "add_input_chunk"; upload_id: string; index: number; total: number; name: string }
  | { type: "add_refs"; refs: string[]; upload_id?: string }
  | { type: "remove_input"; id: string }
  | { type: "move_input"; id: string; to: number }
  | { type: "compare"; ids: [string, string]; request_id: string }
  | { type: "history_more" }
  | { type: "history_search"; query: string }
  | { type: "view"; view_id: string; shown: boolean }
  | { type: "refine"; prompt: string }
  | { type: "refine_select"; id: string }
  | { type: "refine_new" }
  | { type: "ping"; request_id: string }
  | { type: "results_shown"; job_id: string }
  | { type: "options_patch"; seq: number; view: string; changes: Partial<Options> };

/** One image of a `compare` reply (its record's fields; `mime` of the matching buffer). */
export interface CompareItem {
  id: string;
  prompt?: string;
  model?: string;
  params?: Record<string, unknown>;
  created?: string;
  cost_text?: string;
  width?: number | null;
  height?: number | null;
  mime?: string | null;
}

/** A parameter the two compared images differ in; `null` = not set on that side. */
export interface CompareDifference {
  param: string;
  a: unknown;
  b: unknown;
}

/** Reply to `fetch_image`: one buffer with the full image, or none and `error`. */
export interface ImageReply {
  type: "image";
  id: string;
  request_id: string;
  mime?: string | null;
  error?: string;
}

/** Reply to `compare`: two buffers (A, B) in the order of `items`, or `error`. */
export interface CompareReply {
  type: "compare";
  request_id: string;
  items?: CompareItem[];
  differences?: CompareDifference[];
  error?: string;
}

/** Unsolicited short message for the notices area. */
export interface NoticeReply {
  type: "notice";
  level?: "info" | "warning";
  message: string;
}

/** The kernel's answer to each upload message that carried an `upload_id`. */
export interface UploadProgressReply {
  type: "upload_progress";
  upload_id: string;
  /** Bytes of the message answered. */
  received: number;
  /** The last answer for this id: its files were added or refused. */
  done: boolean;
  added?: string[];
  /** Why files were not added, each naming the file. */
  problems?: string[];
}

/** The kernel's answer to `ping` (views/kernel-watch.ts): it is alive and listening. */
export interface PongReply {
  type: "pong";
  request_id: string;
}

/** The kernel applied the page's option patches up to `seq` (its `options` trait already holds them). */
export interface OptionsAppliedReply {
  type: "options_applied";
  seq: number;
  /** The view whose patch this answers (each view numbers its own patches). */
  view?: string;
}

/** A change to the history strip (widget/history_diff.py): `items[].thumb` is the index of a buffer. */
export interface HistoryDiff {
  type: "history_diff";
  removed: string[];
  added: { index: number; run: Omit<HistoryRun, "items"> & { items: { id: string; thumb: number }[] } }[];
  changed: { index: number; run: Omit<HistoryRun, "items"> & { items: { id: string; thumb: number }[] } }[];
}
/** A run's saved images, full size as base64, before its thumbnails (widget/runs.py `show_saved`; not state). */
export interface ResultsSaved {
  type: "results_saved";
  job_id: string;
  items: (Omit<ResultItem, "thumb" | "code" | "snippet"> & { mime: string; b64: string })[];
}
export type Reply = ResultsSaved | HistoryDiff | ImageReply | NoticeReply | CompareReply | UploadProgressReply | PongReply | OptionsAppliedReply;

/** Commands answered by exactly one reply with the same `request_id`, and the reply each gets. */
export interface RequestReplies {
  fetch_image: ImageReply;
  compare: CompareReply;
}
export type RequestType = keyof RequestReplies;
/** The `type` of the reply each request command gets. */
export const REPLY_TYPE: { [T in RequestType]: RequestReplies[T]["type"] } = { fetch_image: "image", compare: "compare" };
/** A request command as a view writes it: Ctx.request adds the `request_id`. */
export type RequestCommand<T extends RequestType> = Omit<Extract<Command, { type: T }>, "request_id">;
