// What long work in the engine reports as it goes: the TypeScript API's
// progress events (src/api/progress.ts) carry it to a program, which can
// show a progress bar. (The CLI shows the same work through Mininet's
// lines and the engine's notices.)

export type EngineProgress =
  /** A KVM host's guest is starting; hosts: the guests started in this run so far (a network starts them all while it is built). */
  | { kind: 'hostBooting'; host: string; hosts: number }
  /** A KVM host's guest is up: booted of hosts (N of M), seconds since its start. */
  | { kind: 'hostBooted'; host: string; booted: number; hosts: number; seconds: number }
  /** A snapshot template (a guest booted once and saved, which KVM hosts start as clones of) was made for image. */
  | { kind: 'templateMade'; image: string; seconds: number }
  /** A Docker host's image (dimage) was imported from source as guest image (a moment where that content was imported before). */
  | { kind: 'imageImported'; dimage: string; image: string; source: string; seconds: number };

/** Takes the engine's progress (it must not throw: the engine's work goes on whatever it does). */
export type ProgressListener = (event: EngineProgress) => void;
