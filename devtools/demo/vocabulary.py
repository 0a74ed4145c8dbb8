"""Word lists for realistic CRM data: people, places and photographs."""

from __future__ import annotations

from typing import NamedTuple


class Subject(NamedTuple):
    """What a photograph shows; its title reads ``<style> of <phrase>[ in <place>]``."""

    phrase: str
    description: str
    tags: tuple[str, ...]


def _listed(text: str) -> tuple[str, ...]:
    return tuple(word.strip() for word in text.replace("\n", ",").split(",") if word.strip())


def _weighted(text: str) -> tuple[tuple[str, int], ...]:
    pairs = (entry.split(":") for entry in _listed(text))
    return tuple((name, int(weight)) for name, weight in pairs)


def _subjects(text: str) -> tuple[Subject, ...]:
    # Two lines per subject: "<phrase> [<tags>]", then the indented description.
    lines = text.strip().splitlines()
    subjects = []
    for heading, description in zip(lines[::2], lines[1::2], strict=True):
        phrase, tags = heading.rstrip("]").split(" [")
        subjects.append(Subject(phrase, description.strip(), tuple(tags.split())))
    return tuple(subjects)


FIRST_NAMES = _listed("""
    Olivia, Liam, Emma, Noah, Amelia, Oliver, Sophia, Elijah, Isabella, Lucas, Mia, Mateo,
    Charlotte, Levi, Ava, Ethan, Harper, James, Evelyn, Benjamin, Aria, Henry, Chloe,
    Sebastian, Layla, Jack, Nora, Leo, Zoe, Daniel, Hannah, Samuel, Grace, David, Lily,
    Joseph, Ella, Aisha, Omar, Fatima, Yusuf, Priya, Arjun, Ananya, Rohan, Mei, Wei, Hiroshi,
    Yuki, Haruto, Sakura, Min-jun, Ji-woo, Seo-yeon, Chen, Lin, José, María, Lucía, Javier,
    Sofía, Diego, Camila, Valentina, Thiago, Mathilde, Léa, Chloé, Hugo, Louis, Élodie,
    Jürgen, Lena, Felix, Maximilian, Anneliese, Søren, Freja, Astrid, Björn, Ingrid, Łukasz,
    Zofia, Kasia, Piotr, Giulia, Lorenzo, Matteo, Francesca, Chiara, Chidi, Ngozi, Kwame,
    Amara, Thandiwe, Sipho, Ahmet, Elif, Mehmet, Linh, Anh, Tomás, Inês, João, Beatriz,
    Siobhan, Ciarán
""")

LAST_NAMES = _listed("""
    Smith, Johnson, Williams, Brown, Jones, Garcia, Miller, Davis, Rodriguez, Martinez,
    Hernandez, Lopez, Gonzalez, Wilson, Anderson, Thomas, Taylor, Moore, Jackson, Martin,
    Lee, Thompson, White, Harris, Clark, Lewis, Robinson, Walker, Young, Allen, King, Wright,
    Scott, Müller, Schmidt, Schneider, Fischer, Weber, Becker, Hoffmann, Dubois, Lefèvre,
    Moreau, Laurent, Fournier, Rossi, Russo, Ferrari, Esposito, Bianchi, Kowalski, Nowak,
    Wiśniewski, Andersson, Johansson, Nielsen, Hansen, Jensen, Larsen, Silva, Santos,
    Oliveira, Pereira, Costa, Fernández, Sánchez, Pérez, Gómez, Díaz, Patel, Sharma, Singh,
    Gupta, Kumar, Khan, Ahmed, Ali, Hassan, Tanaka, Suzuki, Takahashi, Watanabe, Kim, Park,
    Choi, Wang, Zhang, Liu, Chen, Nguyen, Tran, Okafor, Adeyemi, Mensah, Dlamini, Yilmaz,
    Kaya, O'Brien, Murphy, Kelly
""")

# The reserved .example top-level domain: realistic-looking, never anybody's inbox.
EMAIL_DOMAINS = _listed("""
    mail.example, inbox.example, post.example, fastmail.example, northwind.example,
    globex.example, initech.example, umbrella.example, studio-lumen.example,
    pixelworks.example, brightframe.example
""")

# ISO 3166-1 alpha-2 codes, weighted roughly like a global SaaS customer base.
COUNTRIES = _weighted("""
    US:22, GB:8, DE:8, FR:6, IN:6, BR:5, CA:4, JP:4, AU:3, ES:3, IT:3, NL:3, MX:2, PL:2,
    SE:2, KR:2, CH:1, DK:1, NO:1, FI:1, IE:1, PT:1, AR:1, NG:1, ZA:1, KE:1, TR:1, VN:1,
    SG:1, NZ:1, AT:1, BE:1
""")

PLANS = _weighted("free:70, pro:22, team:8")

USER_TAGS = _listed("""
    early-adopter, beta-tester, vip, agency, student, enterprise-lead, churn-risk,
    newsletter, referral, photographer, designer, educator
""")

ROLES = _listed("""
    Landscape photographer, Wedding photographer, Street photographer, Product designer,
    Travel blogger, Art director, Photojournalist, Hobbyist shooter, Drone pilot,
    Food stylist, Architecture student, Marketing lead, Wildlife photographer,
    Visual storyteller
""")

CITIES = _listed("""
    Lisbon, Berlin, Kyoto, Reykjavik, Cape Town, Vancouver, Melbourne, Mexico City, Seoul,
    Edinburgh, Oslo, Buenos Aires, Nairobi, Istanbul, Barcelona, Portland, Hanoi, Montreal,
    Amsterdam, Singapore
""")

INTERESTS = (
    "Always chasing golden hour",
    "Loves long exposures and quiet mornings",
    "Shoots mostly on film",
    "Into minimalism and clean lines",
    "Documents everyday life in the city",
    "Happiest in the mountains",
    "Collects vintage lenses",
    "Teaches weekend photography workshops",
    "Obsessed with night skies",
    "Prints everything on paper",
)

SUBJECTS = _subjects("""
mountains at dawn [mountains sunrise landscape]
    First light spilling over snow-capped peaks above the valley
city skyline at night [city night skyline]
    Office towers and bridges glowing against a deep blue sky
a lighthouse in a storm [sea storm lighthouse]
    Waves crashing against the rocks below an old lighthouse
autumn forest trail [forest autumn trail]
    A narrow path through maples in red, orange and gold
desert dunes at sunset [desert sunset dunes]
    Wind-carved sand ridges under a burning orange sky
the northern lights [aurora night winter]
    Green aurora ribbons dancing over a frozen lake
a street market [street market people]
    Crowded stalls of spices, fruit and hand-woven baskets
a fishing harbor [harbor boats sea]
    Colorful boats moored in a calm harbor at low tide
a red fox in the snow [wildlife fox winter]
    A fox pausing mid-stride on a fresh snowfield
rain on a window [rain abstract city]
    Droplets on glass blurring the city lights behind
a coffee shop interior [interior coffee people]
    Warm light, wooden tables and a barista at work
a mountain lake reflection [lake mountains reflection]
    Still turquoise water mirroring jagged peaks
cherry blossoms [spring flowers temple]
    Pale pink blossoms framing a quiet temple courtyard
a foggy bridge [bridge fog architecture]
    A suspension bridge disappearing into morning fog
a tropical beach [beach tropical sea]
    Palm trees leaning over white sand and clear water
the milky way [astrophotography night stars]
    The galactic core rising over a rocky ridge
a modern staircase [architecture minimal abstract]
    A spiral staircase seen from below in concrete and glass
an old man reading [portrait people street]
    A portrait of an old man reading the newspaper in a park
a hummingbird in flight [wildlife birds macro]
    A hummingbird frozen mid-air beside a red flower
a vineyard in the hills [vineyard landscape summer]
    Rows of vines rolling over sunlit hills
a subway platform [city subway motion]
    Commuters blurred by a slow shutter as a train arrives
a waterfall in the jungle [waterfall jungle landscape]
    White water plunging into a green, misty gorge
a bowl of ramen [food ramen closeup]
    Steaming noodles with egg, scallions and chashu pork
a snowy cabin [winter cabin snow]
    A wooden cabin with lit windows under heavy snow
sailboats at a regatta [sailing sea sports]
    Dozens of white sails racing across a windy bay
a neon alley [neon night street]
    A narrow alley glowing with neon signs after the rain
wildflowers in a meadow [flowers meadow summer]
    A meadow of poppies and cornflowers in early summer
an elephant herd [wildlife elephants safari]
    Elephants crossing a dusty plain at golden hour
a cathedral ceiling [architecture church interior]
    Gothic vaults and stained glass light inside a cathedral
surfers at sunrise [surf sunrise sea]
    Silhouettes of surfers paddling out into glassy waves
a rice terrace [landscape agriculture green]
    Terraced rice fields stepping down a green hillside
a vintage car [car vintage street]
    A polished 1960s convertible parked on a sunny street
a mountain climber [climbing mountains adventure]
    A climber on a knife-edge ridge above the clouds
a kitten portrait [pets cat portrait]
    A curious kitten peeking out of a knitted basket
a glacier cave [glacier ice adventure]
    Blue ice walls of a glacier cave lit from above
a jazz club stage [music concert night]
    A saxophonist under a single spotlight in a smoky club
""")

STYLES = _listed("""
    Photography, Long exposure, Aerial view, Close-up, Black and white photo, Panorama,
    Film photo, Wide-angle shot, Drone shot, Candid shot
""")

PLACES = _listed("""
    Iceland, Patagonia, Kyoto, Lisbon, the Alps, Norway, Scotland, Bali, New York,
    Cape Town, the Dolomites, Marrakesh, Hokkaido, Yosemite, the Lofoten Islands, Tuscany,
    Vietnam, the Atacama Desert, Hong Kong, Peru
""")

CURATION_TAGS = _listed("featured, portfolio, editors-pick, print-available, wallpaper")

CAMERA_NOTES = (
    "Shot on a 35mm prime at f/8.",
    "Handheld at 1/250s, no filters.",
    "Tripod, ten-second exposure, ISO 100.",
    "Edited lightly in the darkroom.",
    "Taken with a phone camera.",
    "Medium format film, scanned at home.",
    "Stitched from five vertical frames.",
)
