// humanvid viewer: the animated avatar over the video's frames (left) and in an orbit view (right).
// The data (glb, frames, key times, camera) is the JSON in #viewer-data; three.js comes from the import map.
import * as THREE from 'three';
import { GLTFLoader } from 'three/addons/loaders/GLTFLoader.js';
import { OrbitControls } from 'three/addons/controls/OrbitControls.js';

const data = JSON.parse(document.getElementById('viewer-data').textContent);
const { fx, fy, cx, cy, width, height } = data.camera;
const keyCount = data.times.length;
const hash = new URLSearchParams(location.hash.slice(1));
const silhouette = hash.get('silhouette') === '1';  // test hook: white avatar on black, overlay only, paused

const $ = (id) => document.getElementById(id);
const showError = (error) => {
  $('message').textContent = `viewer error: ${error?.message ?? error}`;
  document.title = 'error';
  document.body.dataset.ready = 'error';
};
window.addEventListener('error', (event) => showError(event.error ?? event.message));
window.addEventListener('unhandledrejection', (event) => showError(event.reason));
const view = $('video-view'), frameImage = $('frame'), scrubber = $('scrubber'), playButton = $('play');
document.title = data.title;
$('title').textContent = data.title;
if (silhouette) document.body.classList.add('silhouette');

// The video camera: at the origin looking down -z, y up, projecting exactly as the pinhole (fx, fy, cx, cy) does
// with pixel centres at integer coordinates (pixel column u covers window x in [u, u+1)).
function videoCamera(near, far) {
  const camera = new THREE.PerspectiveCamera();
  camera.projectionMatrix.set(
    2 * fx / width, 0, 1 - 2 * (cx + 0.5) / width, 0,
    0, 2 * fy / height, 2 * (cy + 0.5) / height - 1, 0,
    0, 0, -(far + near) / (far - near), -2 * far * near / (far - near),
    0, 0, -1, 0);
  camera.projectionMatrixInverse.copy(camera.projectionMatrix).invert();
  camera.updateProjectionMatrix = () => {};  // never replace it with a field-of-view one
  return camera;
}

const scene = new THREE.Scene();
scene.add(new THREE.HemisphereLight(0xffffff, 0x50505a, 1.6));
const sun = new THREE.DirectionalLight(0xffffff, 1.4);
sun.position.set(1, 2, 3);
scene.add(sun);

const overlayRenderer = new THREE.WebGLRenderer({
  canvas: $('overlay'), alpha: !silhouette, antialias: !silhouette, preserveDrawingBuffer: silhouette });
overlayRenderer.setClearColor(0x000000, silhouette ? 1 : 0);
const overlayCamera = videoCamera(0.05, 1000);

let orbitRenderer = null, orbitCamera = null, controls = null, grid = null;
if (!silhouette) {
  orbitRenderer = new THREE.WebGLRenderer({ canvas: $('orbit'), antialias: true });
  orbitRenderer.setClearColor(0x2b2d31, 1);
  orbitCamera = new THREE.PerspectiveCamera(40, 1, 0.02, 200);
  controls = new OrbitControls(orbitCamera, orbitRenderer.domElement);
  controls.enableDamping = false;
  controls.addEventListener('change', requestRender);
}

// Layout: the overlay keeps the frame's aspect ratio inside its pane; in the test hook it is exactly width × height.
function layout() {
  let w = width, h = height;
  if (!silhouette) {
    const pane = $('video-pane');
    const scale = Math.min(pane.clientWidth / width, pane.clientHeight / height);
    w = Math.max(1, Math.floor(width * scale));
    h = Math.max(1, Math.floor(height * scale));
  }
  view.style.width = `${w}px`;
  view.style.height = `${h}px`;
  overlayRenderer.setPixelRatio(silhouette ? 1 : window.devicePixelRatio);
  overlayRenderer.setSize(w, h, false);
  if (orbitRenderer) {
    const pane = $('orbit-pane');
    orbitRenderer.setPixelRatio(window.devicePixelRatio);
    orbitRenderer.setSize(Math.max(1, pane.clientWidth), Math.max(1, pane.clientHeight), false);
    orbitCamera.aspect = Math.max(1, pane.clientWidth) / Math.max(1, pane.clientHeight);
    orbitCamera.updateProjectionMatrix();
  }
  requestRender();
}

let renderPending = false;
function requestRender() {
  if (renderPending) return;
  renderPending = true;
  requestAnimationFrame(() => { renderPending = false; render(); });
}

function render() {
  if (grid) grid.visible = false;
  overlayRenderer.render(scene, overlayCamera);
  if (orbitRenderer) {
    grid.visible = true;
    orbitRenderer.render(scene, orbitCamera);
  }
}

function base64Bytes(text) {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

const gltf = await new GLTFLoader().parseAsync(base64Bytes(data.glb).buffer, '');
const avatar = gltf.scene;
avatar.traverse((object) => {
  if (!object.isMesh) return;
  object.frustumCulled = false;  // a skinned mesh's bounds move with its bones
  if (silhouette) object.material = new THREE.MeshBasicMaterial({ color: 0xffffff, side: THREE.DoubleSide });
});
scene.add(avatar);
const mixer = new THREE.AnimationMixer(avatar);
const clip = gltf.animations.find((a) => a.name === 'video') ?? gltf.animations[0];
const action = clip ? mixer.clipAction(clip) : null;
if (action) {
  action.setLoop(THREE.LoopOnce, 1);
  action.clampWhenFinished = true;  // the last key is the clip's end: hold it, never wrap to the first
  action.play();
}

function avatarBox() {
  avatar.updateMatrixWorld(true);
  return new THREE.Box3().setFromObject(avatar, true);  // precise: the skinned vertices of this pose
}

let key = -1;
function showKey(k) {
  key = Math.min(Math.max(k, 0), keyCount - 1);
  if (action) {
    action.paused = false;  // a LoopOnce action pauses itself at the clip's end
    action.enabled = true;
    mixer.setTime(data.times[key]);
  }
  if (!silhouette) {
    frameImage.src = `data:image/jpeg;base64,${data.frames[key]}`;
    scrubber.value = key;
    $('frame-label').textContent = `frame ${data.frameNumbers[key]}  (${key + 1} / ${keyCount})`;
    followAvatar();
  }
  requestRender();
}

// The orbit view follows the avatar: target and camera move as the centre of its bones does (cheap per key).
const bones = [];
avatar.traverse((object) => { if (object.isBone) bones.push(object); });
let followed = null;
function followAvatar() {
  if (bones.length === 0) return;
  avatar.updateMatrixWorld(true);
  const centre = new THREE.Box3().setFromPoints(bones.map((b) => b.getWorldPosition(new THREE.Vector3())))
    .getCenter(new THREE.Vector3());
  if (followed) {
    const shift = centre.clone().sub(followed);
    controls.target.add(shift);
    orbitCamera.position.add(shift);
    controls.update();
  }
  followed = centre;
}

let playing = false, playStart = 0, playFrom = 0;
function setPlaying(on) {
  playing = on && keyCount > 1;
  playButton.textContent = playing ? 'pause' : 'play';
  if (playing) {
    if (key === keyCount - 1) showKey(0);
    playStart = performance.now();
    playFrom = data.times[key];
    requestAnimationFrame(tick);
  }
}

function tick(now) {
  if (!playing) return;
  const t = playFrom + (now - playStart) / 1000;
  const period = (data.times[keyCount - 1] - data.times[0]) / (keyCount - 1);  // the last key shows this long too
  if (t >= data.times[keyCount - 1] + period) {  // loop from the first key
    showKey(0);
    playStart = now;
    playFrom = data.times[0];
  } else {
    let k = key;
    while (k + 1 < keyCount && data.times[k + 1] <= t) k++;
    if (k !== key) showKey(k);
  }
  requestAnimationFrame(tick);
}

if (silhouette) {
  showKey(Number.parseInt(hash.get('frame') ?? '0', 10) || 0);
  layout();
  render();
  requestAnimationFrame(() => requestAnimationFrame(() => {  // once the rendered frame is on screen
    document.body.dataset.ready = '1';
    document.title = 'ready';
  }));
} else {
  scrubber.max = keyCount - 1;
  scrubber.addEventListener('input', () => { setPlaying(false); showKey(Number(scrubber.value)); });
  playButton.addEventListener('click', () => setPlaying(!playing));
  window.addEventListener('keydown', (event) => {
    if (event.key === 'ArrowLeft' || event.key === 'ArrowRight') {
      setPlaying(false);
      showKey(key + (event.key === 'ArrowRight' ? 1 : -1));
      event.preventDefault();
    } else if (event.key === ' ') {
      setPlaying(!playing);
      event.preventDefault();
    }
  });
  window.addEventListener('resize', layout);

  // The first key: ground grid under the avatar's feet, the orbit camera front-left of it, looking at its centre.
  showKey(0);
  const box = avatarBox(), size = box.getSize(new THREE.Vector3()), centre = box.getCenter(new THREE.Vector3());
  const extent = Math.max(size.x, size.y, size.z, 0.1);
  grid = new THREE.GridHelper(Math.ceil(extent * 4), Math.ceil(extent * 4) * 4, 0x8a8d93, 0x45484e);
  grid.position.set(centre.x, box.min.y, centre.z);
  scene.add(grid);
  controls.target.copy(centre);
  orbitCamera.position.copy(centre).add(new THREE.Vector3(-0.7, 0.25, 1).normalize().multiplyScalar(2.2 * extent));
  controls.update();
  const initial = Number.parseInt(hash.get('frame') ?? '0', 10) || 0;
  showKey(initial);
  layout();
  requestAnimationFrame(() => requestAnimationFrame(() => { document.body.dataset.ready = '1'; }));
}
